"""The fleet digest: the period's incidents grouped by host, or nothing on a clean period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, or_, select

from detector.incidents import repository as repo
from detector.incidents.model import Incident
from investigate.mdtext import escape_text
from logvigil.store.schema import IncidentRow
from notify.base import Notification, NotificationKind, Section

incidents_t = IncidentRow.__table__

#: Incidents listed per host before "and N more" (Discord fields hold 1,024 characters).
MAX_PER_HOST = 15
NO_HOST = "(no host)"


def period_incidents(conn: Connection, start: datetime, end: datetime) -> list[Incident]:
    """Incidents opened in `[start, end)`, and older ones still unresolved at `end`."""
    i = incidents_t.c
    ids = conn.execute(
        select(i.id)
        .where(
            i.opened_at < end,
            or_(i.opened_at >= start, i.resolved_at.is_(None), i.resolved_at >= start),
        )
        .order_by(i.opened_at, i.id)
    ).scalars()
    out = []
    for incident_id in ids:
        inc = repo.load(conn, incident_id)
        if inc is not None:
            out.append(inc)
    return out


def build_digest(
    incidents: Sequence[Incident],
    start: datetime,
    end: datetime,
    *,
    not_notified: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """The digest of `incidents` grouped by host; None when there are none (nothing is sent).

    `not_notified`: incident id -> why its own message was folded (quiet hours,
    rate limit, silence), shown next to it.
    """
    if not incidents:
        return None
    not_notified = not_notified or {}
    by_host: dict[str, list[Incident]] = defaultdict(list)
    for inc in incidents:
        for host in inc.hosts or (NO_HOST,):
            by_host[host].append(inc)
    sections = []
    for host in sorted(by_host):
        lines = []
        items = by_host[host]
        for inc in items[:MAX_PER_HOST]:
            state = "resolved" if inc.resolved_at is not None else inc.status.value
            note = f" ({not_notified[inc.id]})" if inc.id in not_notified else ""
            lines.append(
                f"#{inc.id} {inc.opened_at:%m-%d %H:%M} [{inc.severity.label}] "
                f"{inc.title} - {state}{note}"
            )
        if len(items) > MAX_PER_HOST:
            lines.append(f"... and {len(items) - MAX_PER_HOST} more")
        sections.append(Section(host, "\n".join(lines)))
    worst = max(inc.severity for inc in incidents)
    # Host names and titles come from the logs: escaped (`investigate.mdtext.escape_text`).
    markdown = "\n".join(
        [f"# LogVigil digest {start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} UTC", ""]
        + [
            f"## {escape_text(s.name)}\n"
            + "\n".join(f"- {escape_text(x)}" for x in s.value.splitlines())
            for s in sections
        ]
    )
    n = len(incidents)
    return Notification(
        kind=NotificationKind.DIGEST,
        title=f"LogVigil digest: {n} incident{'s' if n != 1 else ''} on {len(by_host)} "
        f"host{'s' if len(by_host) != 1 else ''}",
        summary=f"From {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({start.tzname() or 'UTC'}).",
        severity=worst,
        sections=tuple(sections),
        markdown=markdown,
        created_at=now or end,
        attachment_name=f"digest-{end:%Y-%m-%d}.md",
    )
