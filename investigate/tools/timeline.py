"""`timeline`: every finding and the first occurrence of each anomalous template, in order.

A template is anomalous when it is WARNING or worse and new in the window,
behind a finding, or at least `SPIKE_RATIO` times its earlier rate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from investigate.model import ToolResult
from investigate.tools.context import ToolContext, line, template_lines
from investigate.tools.counts import TemplateStats, template_stats
from investigate.tools.spec import NoArgs, ToolSpec, ok, total
from logvigil.core.events import Severity
from logvigil.core.timeutil import iso_z
from logvigil.store import evidence

NAME = "timeline"
#: A template is anomalous when its rate during the incident is this many times its rate before.
SPIKE_RATIO = 3.0


@total(NAME)
def run(ctx: ToolContext) -> ToolResult:
    """Findings and the first occurrence of each anomalous template per service, oldest first."""
    w = ctx.window
    services = ctx.incident_services()
    rows: list[dict[str, Any]] = [
        {
            "at": iso_z(f.started_at),
            "kind": "finding",
            "service": f.service,
            "host": f.host,
            "detector": f.detector,
            "finding_kind": f.kind,
            "severity": f.severity.label,
            "template_id": f.template_id,
            "summary": line(f.summary),
        }
        for f in ctx.incident.findings
    ]
    stats = template_stats(ctx, services) if services else {}
    finding_tpls = {(f.service, f.template_id) for f in ctx.incident.findings}
    wanted: dict[tuple[str, int], TemplateStats] = {}
    for key, s in stats.items():
        if key in finding_tpls:
            wanted[key] = s
            continue
        if s.max_severity < Severity.WARNING or s.during == 0:
            continue
        if s.new or s.during_rate >= SPIKE_RATIO * max(s.before_rate, 1e-9):
            wanted[key] = s
    if wanted:
        with ctx.engine.connect() as conn:
            first = evidence.first_occurrences(
                conn,
                {s for s, _ in wanted},
                {t for _, t in wanted},
                start=w.start,
                onset=w.onset,
                end=w.end,
            )
            texts = template_lines(conn, {t for _, t in wanted})
        earliest: dict[tuple[str, int], tuple[datetime, str]] = {}
        for o in first:
            key = (o.service, o.template_id)
            if key not in wanted:
                continue
            # A template that was there before counts from the onset; a new one from its
            # first line.
            at = o.first if wanted[key].before == 0 else o.first_from_onset
            if at is None:
                continue
            if key not in earliest or at < earliest[key][0]:
                earliest[key] = (at, o.host)
        for (service, tid), (at, host) in earliest.items():
            s = wanted[(service, tid)]
            rows.append(
                {
                    "at": iso_z(at),
                    "kind": "new_template" if s.new else "template",
                    "service": service,
                    "host": host,
                    "severity": s.max_severity.label,
                    "template_id": tid,
                    "template": texts.get(tid, ""),
                    "before": s.before,
                    "during": s.during,
                }
            )
    missing = {r["template_id"] for r in rows if r["kind"] == "finding" and r["template_id"]}
    if missing:
        with ctx.engine.connect() as conn:
            texts = template_lines(conn, missing)
        for r in rows:
            if r["kind"] == "finding" and r["template_id"] in texts:
                r["template"] = texts[r["template_id"]]
    rows.sort(
        key=lambda r: (
            r["at"],
            r["kind"] != "finding",
            r["service"] or "",
            r.get("template_id") or 0,
        )
    )
    return ok(NAME, {"window": w.to_json(), "entries": rows}, "entries")


SPEC = ToolSpec(
    NAME,
    "The incident's timeline: every finding and the first occurrence of each anomalous "
    "log template (new, spiking, or behind a finding) per service, oldest first.",
    NoArgs,
    lambda ctx, args: run(ctx),
)
