"""Per-template line counts of the incident's window, shared by `timeline` and
`template_stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from investigate.tools.context import ToolContext
from logvigil.core.events import Severity
from logvigil.core.timeutil import floor_minute
from logvigil.store import evidence


@dataclass(frozen=True, slots=True)
class TemplateStats:
    """One template of one service: lines before and during the onset, per-minute rates,
    its worst severity, and whether the service first logged it in the window."""

    before: int
    during: int
    before_rate: float
    during_rate: float
    max_severity: Severity
    new: bool
    first_seen: datetime | None


def template_stats(ctx: ToolContext, services: list[str]) -> dict[tuple[str, int], TemplateStats]:
    """(service, template id) -> its `TemplateStats` over the incident's window.

    While `ctx.remembering`, services covered by an earlier call are answered from it:
    the counts of a service do not depend on the other services asked with it."""
    memo = ctx.remembered
    if memo is None:
        return _read(ctx, services)
    wanted = set(services)
    for covered, stats in memo.setdefault(__name__, []):
        if wanted <= covered:
            return {key: s for key, s in stats.items() if key[0] in wanted}
    stats = _read(ctx, services)
    memo[__name__].append((frozenset(wanted), stats))
    return stats


def _read(ctx: ToolContext, services: list[str]) -> dict[tuple[str, int], TemplateStats]:
    """`template_stats` as the store answers it now."""
    w = ctx.window
    with ctx.engine.connect() as conn:
        # The minute bucket holding the onset counts as "during", and so does the one
        # holding the end.
        counts = evidence.template_counts(
            conn,
            services,
            start=w.start,
            split=w.onset_minute,
            stop=floor_minute(w.end) + timedelta(minutes=1),
        )
        firsts = evidence.first_seen_times(conn, services)
    out = {}
    for c in counts:
        first = firsts.get((c.service, c.template_id))
        out[(c.service, c.template_id)] = TemplateStats(
            before=c.before,
            during=c.during,
            before_rate=c.before / w.before_minutes,
            during_rate=c.during / w.during_minutes,
            max_severity=c.max_severity,
            new=first is not None and first >= w.start,
            first_seen=first,
        )
    return out
