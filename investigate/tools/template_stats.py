"""`template_stats`: the templates of one service, before and during the onset."""

from __future__ import annotations

from typing import Any

from investigate.model import ToolResult
from investigate.tools.context import ToolContext, template_lines
from investigate.tools.counts import template_stats
from investigate.tools.spec import ServiceArgs, ToolSpec, ok, total
from logvigil.core.timeutil import iso_z

NAME = "template_stats"


@total(NAME)
def run(ctx: ToolContext, service: str) -> ToolResult:
    """Per template of `service`: lines before and during the onset, rates, novelty; the
    most telling first (new, then by severity, then by how much the rate grew)."""
    ctx.check(service)
    w = ctx.window
    stats = template_stats(ctx, [service])
    with ctx.engine.connect() as conn:
        texts = template_lines(conn, {t for _, t in stats})
    rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for (_, tid), s in stats.items():
        ratio = None if s.before_rate == 0 else round(s.during_rate / s.before_rate, 2)
        growth = ratio if ratio is not None else (1e9 if s.during else 0)
        rows.append(
            (
                (not s.new, -s.max_severity, -growth, -s.during, tid),
                {
                    "template_id": tid,
                    "template": texts.get(tid, ""),
                    "severity": s.max_severity.label,
                    "before": s.before,
                    "during": s.during,
                    "before_per_min": round(s.before_rate, 3),
                    "during_per_min": round(s.during_rate, 3),
                    "ratio": ratio,
                    "new": s.new,
                    "first_seen": iso_z(s.first_seen) if s.first_seen else None,
                },
            )
        )
    rows.sort(key=lambda r: r[0])
    data = {
        "service": service,
        "window": w.to_json(),
        "before_minutes": round(w.before_minutes, 1),
        "during_minutes": round(w.during_minutes, 1),
        "templates": [row for _, row in rows],
    }
    return ok(NAME, data, "templates")


SPEC = ToolSpec(
    NAME,
    "Log templates of one service with line counts before and during the incident, "
    "rates per minute, the during/before ratio, and whether the template is new.",
    ServiceArgs,
    lambda ctx, args: run(ctx, args.service),
)
