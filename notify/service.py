"""What the daemon, `investigate --post` and `logvigil notify test` call.

- `on_incident_changes(engine, changes, now, notify_config)` after every tick:
  enqueues "opened" and "resolved" messages per routed channel, or records
  why not (silenced, quiet hours, rate limit: folded into the digest);
- `maybe_enqueue_digest(engine, now, notify_config)` on every tick: the
  fleet digest once per period, nothing on a clean period;
- `on_report(engine, incident_id, report, now, notify_config)` when an
  investigation stored its report;
- `post_incident(engine, incident_id, notify_config, now)` for `investigate
  --incident N --post`: enqueue and deliver now, one result per channel;
- `send_test(notify_config, now)` for `logvigil notify test`.

None of them raises on a channel failure; store errors in the enqueue
functions are logged and swallowed so a notifier problem never stops detection.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from detector.incidents import repository as repo
from detector.incidents.manager import ChangeKind, IncidentChange
from detector.incidents.model import Incident
from investigate.model import Report
from notify import silences as silences_db
from notify.base import Notification, NotificationKind, Notifier, NotifyError
from notify.channels import build_notifiers, configured_channels
from notify.config import NotifyConfig, NotifyPolicy
from notify.digest import build_digest, period_incidents
from notify.messages import incident_opened, incident_resolved, report_ready, test_message
from notify.outbox import (
    OutboxStatus,
    Sender,
    enqueue,
    exists,
    mark_broken,
    mark_ok,
    outbox_t,
)
from notify.picture import incident_picture
from notify.policy import (
    DeliveryDecision,
    Reason,
    Silence,
    decide,
    digest_period,
    rate_window,
    route,
    silenced_by,
)
from notify.registry import ChannelName

log = logging.getLogger(__name__)

#: Kinds that count against a channel's rate limit.
_RATED = (NotificationKind.OPENED.value, NotificationKind.RESOLVED.value)
#: A test message waits in-process for a 429's `retry_after` up to this long, once.
TEST_RETRY_AFTER_MAX = 5.0

_FOLDED_STATUS = {
    Reason.SILENCED: OutboxStatus.SILENCED,
    Reason.QUIET_HOURS: OutboxStatus.FOLDED,
    Reason.RATE_LIMITED: OutboxStatus.FOLDED,
}


def _key(kind: str, incident_id: int, channel: str) -> str:
    return f"{kind}:{incident_id}:{channel}"


def _sent_in_window(conn: Connection, channel: ChannelName, since: datetime) -> int:
    c = outbox_t.c
    return conn.execute(
        select(func.count()).where(
            c.channel == channel,
            c.kind.in_(_RATED),
            c.created_at >= since,
            c.status.not_in([OutboxStatus.FOLDED.value, OutboxStatus.SILENCED.value]),
        )
    ).scalar_one()


def _status_of(conn: Connection, key: str) -> OutboxStatus | None:
    s = conn.execute(select(outbox_t.c.status).where(outbox_t.c.idempotency_key == key)).scalar()
    return None if s is None else OutboxStatus(s)


def _enqueue_decided(
    conn: Connection,
    n: Notification,
    decision: DeliveryDecision,
    key: str,
    now: datetime,
) -> bool:
    status = OutboxStatus.PENDING if decision.send else _FOLDED_STATUS[decision.reason]
    return enqueue(
        conn,
        decision.channel,
        n.kind.value,
        key,
        n.to_json(),
        now,
        incident_id=n.incident_id,
        status=status,
        reason=None if decision.send else f"{decision.reason.value}: {decision.detail}",
    )


def _decide_for(
    conn: Connection,
    incident: Incident,
    channel: ChannelName,
    now: datetime,
    policy: NotifyPolicy,
    silences: Sequence[Silence],
) -> DeliveryDecision:
    limit = policy.rate_limit.get(channel)
    sent = _sent_in_window(conn, channel, now - rate_window(limit)) if limit else 0
    return decide(
        incident,
        channel,
        now,
        policy,
        silence=silenced_by(incident, silences, now),
        sent_in_window=sent,
    )


def _not_on_its_own(channel: ChannelName, opened: OutboxStatus) -> DeliveryDecision:
    """A message that follows an opening that was folded or silenced: so is it."""
    return DeliveryDecision(
        channel,
        Reason.SILENCED if opened is OutboxStatus.SILENCED else Reason.QUIET_HOURS,
        "the opening message was not sent on its own",
    )


def enqueue_changes(
    conn: Connection, changes: Iterable[IncidentChange], now: datetime, notify_config: NotifyConfig
) -> int:
    """Enqueue (or record as folded) the messages of `changes`; returns rows inserted."""
    channels = configured_channels(notify_config)
    active_silences = silences_db.active(conn, now)
    inserted = 0
    for change in changes:
        inc = change.incident
        if change.kind is ChangeKind.OPENED:
            n = incident_opened(inc, now)
            for ch in route(inc, notify_config.routes, channels):
                d = _decide_for(conn, inc, ch, now, notify_config, active_silences)
                inserted += _enqueue_decided(conn, n, d, _key("opened", inc.id, ch), now)
        elif change.kind is ChangeKind.RESOLVED:
            n = incident_resolved(inc, now)
            for ch in route(inc, notify_config.routes, channels):
                opened = _status_of(conn, _key("opened", inc.id, ch))
                if opened in (OutboxStatus.FOLDED, OutboxStatus.SILENCED):
                    d = _not_on_its_own(ch, opened)
                else:
                    d = _decide_for(conn, inc, ch, now, notify_config, active_silences)
                inserted += _enqueue_decided(conn, n, d, _key("resolved", inc.id, ch), now)
    return inserted


def on_incident_changes(
    engine: Engine, changes: Sequence[IncidentChange], now: datetime, notify_config: NotifyConfig
) -> int:
    """Call after each tick. Returns rows enqueued; never raises (errors are logged)."""
    if not changes:
        return 0
    try:
        with engine.begin() as conn:
            return enqueue_changes(conn, changes, now, notify_config)
    except Exception:
        log.exception("enqueueing notifications failed; detection continues")
        return 0


def on_report(
    engine: Engine, incident_id: int, report: Report, now: datetime, notify_config: NotifyConfig
) -> int:
    """Enqueue "report ready" on the channels that were told about the incident (or that
    would be now). Returns rows enqueued; never raises."""
    try:
        # The picture is read on its own connection: a failed read must not abort the
        # transaction that enqueues the text.
        with engine.connect() as conn:
            incident = repo.load(conn, incident_id)
            picture = incident_picture(conn, incident) if incident is not None else None
        with engine.begin() as conn:
            n = replace(report_ready(incident, report, now), picture=picture)
            channels = configured_channels(notify_config)
            targets = route(incident, notify_config.routes, channels) if incident else channels
            silences = silences_db.active(conn, now)
            inserted = 0
            for ch in targets:
                opened = _status_of(conn, _key("opened", incident_id, ch))
                if opened in (OutboxStatus.FOLDED, OutboxStatus.SILENCED):
                    d = _not_on_its_own(ch, opened)
                elif opened is None and incident is not None:
                    d = _decide_for(conn, incident, ch, now, notify_config, silences)
                else:
                    d = DeliveryDecision(ch, Reason.SEND)
                inserted += _enqueue_decided(conn, n, d, _key("report", incident_id, ch), now)
            return inserted
    except Exception:
        log.exception("enqueueing the report of incident %d failed", incident_id)
        return 0


def maybe_enqueue_digest(engine: Engine, now: datetime, notify_config: NotifyConfig) -> int:
    """Enqueue the digest of the period that ended last, once; nothing on a clean period.

    Cheap to call every tick: once a period's digest is in the outbox this is
    one indexed lookup. Returns rows enqueued; never raises.
    """
    cfg = notify_config.digest
    if not cfg.enabled:
        return 0
    configured = configured_channels(notify_config)
    channels = [c for c in (cfg.channels or configured) if c in configured]
    start, end = digest_period(now, cfg.at, cfg.timezone)
    # The key keeps `isoformat()` (+00:00): keys already in the outbox must still match.
    keys = {ch: f"digest:{end.isoformat()}:{ch}" for ch in channels}
    try:
        with engine.begin() as conn:
            todo = [ch for ch, key in keys.items() if not exists(conn, key)]
            if not todo:
                return 0
            incidents = period_incidents(conn, start, end)
            folded = _not_notified(conn, [i.id for i in incidents])
            n = build_digest(incidents, start, end, not_notified=folded, now=now)
            if n is None:
                return 0
            return sum(enqueue(conn, ch, n.kind.value, keys[ch], n.to_json(), now) for ch in todo)
    except Exception:
        log.exception("building the digest failed")
        return 0


def _not_notified(conn: Connection, incident_ids: list[int]) -> dict[int, str]:
    if not incident_ids:
        return {}
    c = outbox_t.c
    out: dict[int, str] = {}
    for incident_id, status, err in conn.execute(
        select(c.incident_id, c.status, c.last_error).where(
            c.incident_id.in_(incident_ids),
            c.kind == NotificationKind.OPENED.value,
            c.status.in_([OutboxStatus.FOLDED.value, OutboxStatus.SILENCED.value]),
        )
    ):
        out.setdefault(incident_id, (err or status).split(":")[0].replace("_", " "))
    return out


# -- delivering now: investigate --post and notify test ---------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    channels: tuple[ChannelResult, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.channels) and all(c.ok for c in self.channels)


def post_incident(
    engine: Engine,
    incident_id: int,
    notify_config: NotifyConfig,
    now: datetime,
    *,
    notifiers: Mapping[str, Notifier] | None = None,
    clock: Callable[[], datetime] | None = None,
    deadline: timedelta = timedelta(minutes=2),
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Post incident `incident_id`'s stored report to every configured channel, now.

    An explicit operator action: silences, quiet hours and rate limits do not
    apply. Posting the same report again is a no-op that reports success
    (idempotency key: incident, channel and a hash of the report). Waits (with
    `sleep`) for a 429 or a backoff up to `deadline`; a row still pending then
    stays in the outbox for the daemon and counts as not delivered.
    """
    with engine.connect() as conn:
        incident = repo.load(conn, incident_id)
        row = conn.execute(
            select(repo.incidents_t.c.report).where(repo.incidents_t.c.id == incident_id)
        ).first()
    if incident is None:
        return DeliveryResult((), error=f"no incident {incident_id}")
    if row is None or row.report is None:
        return DeliveryResult(
            (),
            error=f"incident {incident_id} has no report yet: run "
            f"`investigate --incident {incident_id}` first",
        )
    report = Report.from_json(row.report)
    with engine.connect() as conn:
        n = replace(report_ready(incident, report, now), picture=incident_picture(conn, incident))
    digest = hashlib.sha256(n.markdown.encode()).hexdigest()[:16]
    notifiers = dict(notifiers) if notifiers is not None else build_notifiers(notify_config)
    ids: dict[int, str] = {}
    with engine.begin() as conn:
        for ch in notifiers:
            key = f"post:{incident_id}:{ch}:{digest}"
            enqueue(conn, ch, n.kind.value, key, n.to_json(), now, incident_id=incident_id)
            row_id = conn.execute(
                select(outbox_t.c.id).where(outbox_t.c.idempotency_key == key)
            ).scalar_one()
            ids[row_id] = ch
    sender = Sender(engine, notifiers, clock or _clock_from(now))
    sender.deliver(ids, deadline=deadline, sleep=sleep)
    return DeliveryResult(tuple(_row_result(engine, row_id, ch) for row_id, ch in ids.items()))


def _clock_from(now: datetime) -> Callable[[], datetime]:
    """A clock that starts at `now` and advances with the monotonic clock."""
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


def _row_result(engine: Engine, row_id: int, channel: str) -> ChannelResult:
    with engine.connect() as conn:
        r = conn.execute(
            select(outbox_t.c.status, outbox_t.c.last_error, outbox_t.c.attempts).where(
                outbox_t.c.id == row_id
            )
        ).one()
    status = OutboxStatus(r.status)
    if status is OutboxStatus.SENT:
        return ChannelResult(channel, True, "delivered")
    if status is OutboxStatus.FAILED:
        return ChannelResult(channel, False, f"failed for good: {r.last_error}")
    if status is OutboxStatus.UNCONFIRMED:
        return ChannelResult(channel, False, f"unconfirmed, not resent: {r.last_error}")
    return ChannelResult(
        channel,
        False,
        f"not delivered yet after {r.attempts} attempt(s), the daemon keeps retrying: "
        f"{r.last_error}",
    )


def send_test(
    notify_config: NotifyConfig,
    now: datetime,
    *,
    engine: Engine | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[ChannelResult]:
    """Send a test message to every configured channel, directly (not through the outbox).

    A 429 is waited out once when Discord asks for at most
    `TEST_RETRY_AFTER_MAX` seconds. With `engine`, a success clears the
    channel's broken mark and a permanent failure sets it.
    """
    sleep = sleep or time.sleep
    notifiers = dict(notifiers) if notifiers is not None else build_notifiers(notify_config)
    n = test_message(now)
    results = []
    for name, notifier in notifiers.items():
        try:
            try:
                receipt = notifier.send(n)
            except NotifyError as exc:
                if exc.retry_after is None or exc.retry_after > TEST_RETRY_AFTER_MAX:
                    raise
                sleep(exc.retry_after)
                receipt = notifier.send(n)
        except NotifyError as exc:
            results.append(ChannelResult(name, False, exc.message))
            if engine is not None and exc.permanent:
                _safely(engine, name, now, exc.message)
            continue
        except Exception as exc:  # a notifier bug: report it, test the others
            results.append(ChannelResult(name, False, f"internal error: {type(exc).__name__}"))
            continue
        detail = "delivered" + (f" (message {receipt})" if receipt else "")
        results.append(ChannelResult(name, True, detail))
        if engine is not None:
            _safely(engine, name, now, None)
    return results


def _safely(engine: Engine, channel: str, now: datetime, broken: str | None) -> None:
    """Record a channel's health; a store error is logged, never raised."""
    try:
        with engine.begin() as conn:
            if broken is None:
                mark_ok(conn, channel, now)
            else:
                mark_broken(conn, channel, broken, now)
    except Exception:
        log.exception("recording the channel state failed")
