"""`lines_around`: raw (redacted) log lines near a moment, warnings and errors first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from investigate.model import ToolResult
from investigate.tools.context import MAX_LINE_CHARS, ToolContext, ToolError, line
from investigate.tools.spec import ServiceName, ToolArgs, ToolSpec, ok, total
from logvigil.core.events import Severity
from logvigil.core.timeutil import iso_z, parse_iso
from logvigil.store import evidence
from logvigil.store.evidence import LogLine

NAME = "lines_around"
#: How far outside the incident's window `lines_around` may look.
LINES_SLACK = timedelta(hours=2)
#: Lines of one template at most, so one flood does not hide the rest.
PER_TEMPLATE = 3


class LinesAroundArgs(ToolArgs):
    at: Annotated[str, Field(description="ISO 8601 time, e.g. 2026-03-03T10:00:00Z")]
    service: ServiceName | None = None
    minutes: Annotated[
        int, Field(ge=1, le=60, description="look this many minutes either side")
    ] = 5
    limit: Annotated[int, Field(ge=1, le=100, description="at most this many lines")] = 30


@total(NAME)
def run(
    ctx: ToolContext,
    at: str | datetime,
    service: str | None = None,
    minutes: int = 5,
    limit: int = 30,
) -> ToolResult:
    """Up to `limit` lines within `minutes` of `at` (WARNING+ and nearest first, then
    in time order), at most `PER_TEMPLATE` per template."""
    try:
        moment = parse_iso(at)
    except ValueError as e:
        raise ToolError(f"`at` is not an ISO 8601 time ({e}); e.g. 2026-03-03T10:00:00Z") from e
    if not 1 <= minutes <= 60:
        raise ToolError(f"`minutes` must be between 1 and 60, got {minutes}")
    if not 1 <= limit <= 100:
        raise ToolError(f"`limit` must be between 1 and 100, got {limit}")
    w = ctx.window
    if not w.start - LINES_SLACK <= moment <= w.end + LINES_SLACK:
        raise ToolError(
            f"{iso_z(moment)} is outside the incident's window "
            f"({iso_z(w.start)} .. {iso_z(w.end)}, give or take 2 h)"
        )
    if service is not None:
        ctx.check(service)
    with ctx.engine.connect() as conn:
        rows = evidence.lines_near(
            conn,
            moment,
            minutes=minutes,
            service=service,
            min_severity=Severity.WARNING,
            limit=limit,
            line_chars=MAX_LINE_CHARS,
        )

    def rank(r: LogLine) -> tuple[bool, float, int]:
        warn = r.severity >= Severity.WARNING
        return (not warn, abs((r.ts - moment).total_seconds()), r.id)

    chosen = evidence.first_per_template(rows, rank, PER_TEMPLATE, limit)
    chosen.sort(key=lambda r: (r.ts, r.id))
    data = {
        "at": iso_z(moment),
        "service": service,
        "minutes": minutes,
        "lines": [
            {
                "ts": iso_z(r.ts),
                "host": r.host,
                "service": r.service,
                "severity": r.severity.label,
                "template_id": r.template_id,
                "line": line(r.message),
            }
            for r in chosen
        ],
    }
    return ok(NAME, data, "lines")


SPEC = ToolSpec(
    NAME,
    "Raw (redacted) log lines within `minutes` of a moment, warnings and errors first, "
    "optionally of one service.",
    LinesAroundArgs,
    lambda ctx, args: run(ctx, args.at, args.service, args.minutes, args.limit),
)
