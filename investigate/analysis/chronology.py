"""The report's timeline and its critical failure, from the `timeline` tool's entries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from detector.incidents.root import RootCandidate, is_primitive
from investigate.analysis.wording import label, without_subject
from investigate.model import TimelineEntry, ToolResult, ToolStatus
from logvigil.core.findings import Finding
from logvigil.core.timeutil import parse_iso

#: Entries of the report's timeline at most.
MAX_TIMELINE = 25

#: (service, template id) -> when it first showed in the incident.
FirstTimes = dict[tuple[str | None, int | None], datetime]


def timeline_entries(
    result: ToolResult, findings: list[Finding]
) -> tuple[list[TimelineEntry], FirstTimes]:
    """Timeline entries (a finding's template counts as the finding) and the first time of
    each (service, template)."""
    first_at: FirstTimes = {}
    rows = result.data.get("entries", []) if result.status is ToolStatus.OK else []
    for r in rows:
        if r["kind"] != "finding":
            first_at.setdefault((r["service"], r["template_id"]), parse_iso(r["at"]))
    entries: list[TimelineEntry] = []
    seen: set[tuple[tuple[str | None, int | None], str]] = set()
    behind_findings = {(f.service, f.template_id) for f in findings if f.template_id is not None}
    for r in rows:
        key = (r["service"], r.get("template_id"))
        if r["kind"] == "finding":
            at = first_at.get(key, parse_iso(r["at"])) if key[1] is not None else parse_iso(r["at"])
            if (key, r["detector"]) in seen:
                continue
            seen.add((key, r["detector"]))
            entries.append(TimelineEntry(at, r["service"], r["host"], finding_summary(r), key[1]))
        elif key not in behind_findings:
            summary = (
                f"{'first' if r['kind'] == 'new_template' else 'spike of'} {r['severity']} "
                f"template #{r['template_id']} ({r['during']} lines during, {r['before']} before): "
                f"{r['template']}"
            )
            entries.append(
                TimelineEntry(parse_iso(r["at"]), r["service"], r["host"], summary, key[1])
            )
    entries.sort(key=lambda e: (e.at, e.service or "", e.template_id or 0, e.summary))
    return entries[:MAX_TIMELINE], first_at


def finding_summary(row: dict[str, Any]) -> str:
    """What a finding of the timeline says, each fact once: its kind in words, what its
    summary adds, and its template: `OOM kill: oom-kill:constraint=...`, not `OOM kill:
    postgres on db-01: OOM kill (template #28): oom-kill:constraint=...`."""
    kind = row.get("finding_kind")
    what = label(kind) if kind else str(row["detector"]).replace("_", " ")
    rest = without_subject(row["summary"], row["service"], row.get("host"))
    tid = row.get("template_id")
    core = re.sub(rf"\s*\(template #{tid}\)", "", rest).strip() if tid is not None else rest
    low_core, low_what = core.lower(), what.lower()
    if not core or low_core in low_what:
        summary = what  # the summary only names the kind: "unit failed (template #43)"
    elif low_what in low_core or core.startswith("first-seen"):
        summary = core  # it says it already: "first-seen ERROR template #29: ..."
    else:
        summary = f"{what}: {core}"
    template = row.get("template")
    if template and template[:40] not in rest:
        summary += f": {template}"
    return summary


def critical_failure(
    timeline: list[TimelineEntry], findings: list[Finding], best: RootCandidate | None
) -> TimelineEntry | None:
    """The first symptom: the earliest primitive in the timeline, else the root's earliest
    entry, else the earliest entry."""
    primitive_keys = {(f.service, f.template_id) for f in findings if is_primitive(f)}
    primitive_subjects = {f.service for f in findings if is_primitive(f) and f.template_id is None}
    for e in timeline:
        if (e.service, e.template_id) in primitive_keys or (
            e.template_id is None and e.service in primitive_subjects
        ):
            return e
    if best is not None:
        for e in timeline:
            if e.service == best.service:
                return e
    return timeline[0] if timeline else None
