"""What gets sent where and when: pure functions of an incident, the config and `now`.

Each decision carries a typed `Reason`, as Alertmanager's do, so the outbox
row of a message that was not sent says why (silenced, quiet hours, rate limit).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from detector.incidents.model import Incident
from logvigil.core.events import Severity
from notify.config import NotifyPolicy, QuietHoursConfig, RateLimitConfig, RouteConfig
from notify.registry import ChannelName

#: Without routes, every configured channel gets incidents of this severity or worse.
DEFAULT_MIN_SEVERITY = Severity.WARNING


class Reason(StrEnum):
    SEND = "send"
    SILENCED = "silenced"
    QUIET_HOURS = "quiet_hours"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Silence:
    """An operator's silence (a row of `silences`)."""

    id: int
    service: str | None
    host: str | None
    reason: str
    created_at: datetime
    expires_at: datetime
    removed_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.removed_at is None and self.created_at <= now < self.expires_at


@dataclass(frozen=True, slots=True)
class DeliveryDecision:
    """Whether a per-incident message goes out on `channel`; if not, why (`detail`)."""

    channel: ChannelName
    reason: Reason
    detail: str = ""

    @property
    def send(self) -> bool:
        return self.reason is Reason.SEND


def _match(pattern: str | None, names: Iterable[str]) -> bool:
    if pattern is None:
        return True
    return any(fnmatch.fnmatchcase(n, pattern) for n in names)


def route(
    incident: Incident, routes: Sequence[RouteConfig], configured: Iterable[ChannelName]
) -> list[ChannelName]:
    """The channels an incident goes to: the first matching route's, else all configured
    channels when the incident is at least `DEFAULT_MIN_SEVERITY`. Only configured
    channels are returned, in the order given."""
    configured = list(configured)
    for r in routes:
        if (
            _match(r.service, incident.services)
            and _match(r.host, incident.hosts)
            and incident.severity >= Severity.parse(r.min_severity)
        ):
            return [c for c in r.channels if c in configured]
    if routes:
        return []
    return configured if incident.severity >= DEFAULT_MIN_SEVERITY else []


def silenced_by(incident: Incident, silences: Iterable[Silence], now: datetime) -> Silence | None:
    """The first active silence covering `incident`, or None.

    A silence covers an incident when it covers its root (the root's service
    and host); without a known root, when it covers every service (a service
    silence) or every host (a host silence) of the incident. A silence naming
    both a service and a host needs both to match.
    """
    for s in silences:
        if not s.active(now):
            continue
        root = incident.root
        if root is not None and (root.service or root.host):
            ok_service = s.service is None or root.service == s.service
            ok_host = (
                s.host is None
                or root.host == s.host
                or (root.host is None and s.host in incident.hosts)
            )
            if ok_service and ok_host:
                return s
            continue
        ok_service = s.service is None or (
            bool(incident.services) and all(x == s.service for x in incident.services)
        )
        ok_host = s.host is None or (
            bool(incident.hosts) and all(x == s.host for x in incident.hosts)
        )
        if ok_service and ok_host:
            return s
    return None


def in_quiet_hours(now: datetime, quiet: QuietHoursConfig) -> bool:
    """True when `now` falls in `start`..`end` local time (end exclusive; may span midnight)."""
    local = now.astimezone(ZoneInfo(quiet.timezone)).time().replace(tzinfo=None)
    start, end = quiet.start, quiet.end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def over_rate_limit(sent_in_window: int, limit: RateLimitConfig | None) -> bool:
    """True when a channel that already took `sent_in_window` messages in the window is full."""
    return limit is not None and sent_in_window >= limit.max_messages


def rate_window(limit: RateLimitConfig) -> timedelta:
    return timedelta(minutes=limit.per_minutes)


def decide(
    incident: Incident,
    channel: ChannelName,
    now: datetime,
    policy: NotifyPolicy,
    *,
    silence: Silence | None,
    sent_in_window: int,
) -> DeliveryDecision:
    """Whether a per-incident message goes out on `channel` now, and if not, why.

    Order: a silence wins; quiet hours fold all but `bypass_severity` and worse;
    then the channel's rate limit. Folded messages are listed in the next digest.
    """
    if silence is not None:
        return DeliveryDecision(channel, Reason.SILENCED, f"silence {silence.id}: {silence.reason}")
    quiet = policy.quiet_hours.get(channel)
    if (
        quiet is not None
        and in_quiet_hours(now, quiet)
        and incident.severity < Severity.parse(quiet.bypass_severity)
    ):
        return DeliveryDecision(
            channel,
            Reason.QUIET_HOURS,
            f"quiet hours {quiet.start:%H:%M}-{quiet.end:%H:%M} {quiet.timezone}",
        )
    limit = policy.rate_limit.get(channel)
    if over_rate_limit(sent_in_window, limit):
        assert limit is not None
        return DeliveryDecision(
            channel,
            Reason.RATE_LIMITED,
            f"rate limit {limit.max_messages} per {limit.per_minutes} min",
        )
    return DeliveryDecision(channel, Reason.SEND)


def digest_period(now: datetime, at: time, timezone: str) -> tuple[datetime, datetime]:
    """The digest period that ended last at or before `now`: `(start, end)`, aware datetimes.

    `end` is the latest `at` (local time of `timezone`) not after `now`;
    `start` the same time on the previous local day (23 or 25 hours earlier
    across a DST change). Both are returned in UTC.
    """
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    end_local = datetime.combine(local_now.date(), at, tzinfo=tz)
    if end_local > local_now:
        end_local = datetime.combine(local_now.date() - timedelta(days=1), at, tzinfo=tz)
    start_local = datetime.combine(end_local.date() - timedelta(days=1), at, tzinfo=tz)
    return start_local.astimezone(UTC), end_local.astimezone(UTC)
