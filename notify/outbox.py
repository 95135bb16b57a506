"""The outbox: every notification is a row; a `Sender` drains due rows to their channel.

Row life (`OutboxStatus`):

    pending ──claim──► sending ──committing()──► posting ──answer──► sent
       ▲                  │                         │
       └── transient ◄────┘ (nothing left yet)      ├── transient (429, 5xx, refused) ─► pending
                                                    ├── permanent answer (401/404) ──► failed
                                                    └── no answer (crash, timeout) ──► unconfirmed

A row is claimed with a conditional UPDATE (`status = pending AND
next_attempt_at <= now`), so several senders never take the same row. Just
before the notifier starts the request that carries the message (for e-mail,
once the SMTP session is up and logged in), the row is committed as `posting`.

The guarantee, precisely:

- a row is never sent twice: a sender that died while `sending` (nothing had
  left) is retried after its lease; one that died while `posting` is *not*
  resent but becomes `unconfirmed` (Discord's webhooks have no idempotency key
  and cannot be asked whether a message arrived), and `channel_status` reports it;
- a row is delivered at least once unless it becomes `unconfirmed` (the
  request had started and neither an answer nor the process survived) or fails
  for good (a permanent answer, or `GIVE_UP_AFTER` of transient failures:
  24 hours, far beyond a 30-minute outage);
- a failure of a channel or of the notifier code never raises out of `drain`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from logvigil.core.timeutil import utc, wall_clock
from logvigil.store.schema import ChannelState, OutboxRow
from logvigil.store.upsert import upsert
from notify.base import Notification, Notifier, NotifyError

log = logging.getLogger(__name__)

outbox_t = OutboxRow.__table__
channels_t = ChannelState.__table__

#: How long a claim holds: far longer than one send (timeouts are 10-15 s).
LEASE = timedelta(minutes=5)
#: Backoff of transient failures: 15 s, 30 s, 60 s, ... at most 5 minutes.
BACKOFF_BASE = timedelta(seconds=15)
BACKOFF_CAP = timedelta(minutes=5)
#: A row failing transiently for this long (since enqueued) fails for good.
GIVE_UP_AFTER = timedelta(hours=24)
#: A broken channel (401/404) is tried again with one row this often (the operator may fix it).
BROKEN_PROBE_INTERVAL = timedelta(minutes=15)
#: Rows claimed per drain.
BATCH = 50
#: `last_error` is kept to this many characters.
ERROR_MAX = 1000


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    POSTING = "posting"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    #: Not sent on its own: quiet hours or the rate limit folded it into the digest.
    FOLDED = "folded"
    #: Not sent: a silence covered it.
    SILENCED = "silenced"

    @property
    def final(self) -> bool:
        return self not in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.POSTING)


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt (1-based)."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def enqueue(
    conn: Connection,
    channel: str,
    kind: str,
    key: str,
    payload: Mapping[str, Any],
    now: datetime,
    *,
    incident_id: int | None = None,
    status: OutboxStatus = OutboxStatus.PENDING,
    reason: str | None = None,
) -> bool:
    """Insert one notification; returns False when `key` is already in the outbox.

    The same key twice is a no-op on every backend (insert-or-ignore on the
    unique idempotency key), so callers may enqueue from every tick.
    """
    row = {
        "channel": channel,
        "kind": kind,
        "idempotency_key": key,
        "incident_id": incident_id,
        "payload": dict(payload),
        "status": status.value,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "last_error": reason,
        "created_at": now,
        "sent_at": None,
    }
    name = conn.dialect.name
    if name == "postgresql":
        # With RETURNING (implicit for one row) psycopg's rowcount is not reliable: ask for the id.
        stmt = postgresql.insert(outbox_t).on_conflict_do_nothing().returning(outbox_t.c.id)
        return conn.execute(stmt, row).first() is not None
    if name in ("mysql", "mariadb"):
        stmt = mysql.insert(outbox_t).prefix_with("IGNORE")
    else:
        stmt = sqlite.insert(outbox_t).prefix_with("OR IGNORE")
    return conn.execute(stmt, row).rowcount == 1


def exists(conn: Connection, key: str) -> bool:
    return (
        conn.execute(select(outbox_t.c.id).where(outbox_t.c.idempotency_key == key)).first()
        is not None
    )


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What happened to one row in a drain."""

    row_id: int
    channel: str
    status: OutboxStatus
    error: str | None = None


@dataclass
class DrainResult:
    outcomes: list[DeliveryOutcome] = field(default_factory=list)
    recovered: int = 0
    unconfirmed_after_crash: int = 0
    #: When the earliest still-pending row is due (None when none is).
    next_due: datetime | None = None
    #: A store error stopped the drain (the rows are untouched and retried next time).
    error: str | None = None

    def count(self, status: OutboxStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)


def mark_broken(conn: Connection, channel: str, reason: str, now: datetime) -> None:
    upsert(
        conn,
        channels_t,
        [{"channel": channel, "broken": True, "reason": reason[:ERROR_MAX], "updated_at": now}],
        merge={"broken": "replace", "reason": "replace", "updated_at": "replace"},
    )


def mark_ok(conn: Connection, channel: str, now: datetime) -> None:
    upsert(
        conn,
        channels_t,
        [{"channel": channel, "broken": False, "reason": None, "updated_at": now}],
        merge={"broken": "replace", "reason": "replace", "updated_at": "replace"},
    )


def broken_channels(conn: Connection) -> dict[str, tuple[str | None, datetime]]:
    """Channel -> (reason, when it was last found broken)."""
    rows = conn.execute(
        select(channels_t.c.channel, channels_t.c.reason, channels_t.c.updated_at).where(
            channels_t.c.broken.is_(True)
        )
    )
    return {r.channel: (r.reason, r.updated_at) for r in rows}


class Sender:
    """Drains the outbox through `notifiers` (channel name -> notifier)."""

    def __init__(
        self,
        engine: Engine,
        notifiers: Mapping[str, Notifier],
        clock: Callable[[], datetime] | None = None,
        *,
        lease: timedelta = LEASE,
        batch: int = BATCH,
    ) -> None:
        self.engine = engine
        self.notifiers = dict(notifiers)
        self.clock = clock or wall_clock
        self.lease = lease
        self.batch = batch

    # -- one pass ----------------------------------------------------------------------------

    def drain(self, now: datetime, *, only_ids: Iterable[int] | None = None) -> DrainResult:
        """Send every due row (or only `only_ids`); never raises."""
        result = DrainResult()
        try:
            self._recover(now, result)
            with self.engine.connect() as conn:
                broken = broken_channels(conn)
                stmt = (
                    select(outbox_t.c.id, outbox_t.c.channel)
                    .where(
                        outbox_t.c.status == OutboxStatus.PENDING.value,
                        outbox_t.c.next_attempt_at <= now,
                    )
                    .order_by(outbox_t.c.next_attempt_at, outbox_t.c.id)
                    .limit(self.batch)
                )
                if only_ids is not None:
                    stmt = stmt.where(outbox_t.c.id.in_(list(only_ids)))
                candidates = conn.execute(stmt).all()
            probed: set[str] = set()
            for row_id, channel in candidates:
                if channel in broken:
                    _, since = broken[channel]
                    if channel in probed or now - since < BROKEN_PROBE_INTERVAL:
                        continue
                    probed.add(channel)
                outcome = self._deliver(row_id, channel, now)
                if outcome is not None:
                    result.outcomes.append(outcome)
                    if outcome.status is OutboxStatus.FAILED and outcome.error:
                        broken_now = self._is_broken(channel)
                        if broken_now:
                            broken[channel] = (outcome.error, now)
            with self.engine.connect() as conn:
                result.next_due = conn.execute(
                    select(func.min(outbox_t.c.next_attempt_at)).where(
                        outbox_t.c.status == OutboxStatus.PENDING.value
                    )
                ).scalar()
        except Exception as exc:  # the store is down: nothing changed, retried next time
            log.warning("outbox drain stopped: %s", type(exc).__name__)
            result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return result

    def _is_broken(self, channel: str) -> bool:
        with self.engine.connect() as conn:
            return channel in broken_channels(conn)

    def _recover(self, now: datetime, result: DrainResult) -> None:
        """Rows whose sender died: `sending` goes back to pending, `posting` is in doubt."""
        c = outbox_t.c
        with self.engine.begin() as conn:
            result.recovered = conn.execute(
                update(outbox_t)
                .where(c.status == OutboxStatus.SENDING.value, c.claimed_until < now)
                .values(status=OutboxStatus.PENDING.value, claimed_until=None)
            ).rowcount
            result.unconfirmed_after_crash = conn.execute(
                update(outbox_t)
                .where(c.status == OutboxStatus.POSTING.value, c.claimed_until < now)
                .values(
                    status=OutboxStatus.UNCONFIRMED.value,
                    claimed_until=None,
                    last_error="the sender stopped after the message left and before the "
                    "channel answered: not resent (it may have been delivered)",
                )
            ).rowcount
        if result.unconfirmed_after_crash:
            log.warning(
                "%d notification(s) left unconfirmed by a sender that stopped mid-send",
                result.unconfirmed_after_crash,
            )

    def _deliver(self, row_id: int, channel: str, now: datetime) -> DeliveryOutcome | None:
        c = outbox_t.c
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(outbox_t)
                .where(
                    c.id == row_id,
                    c.status == OutboxStatus.PENDING.value,
                    c.next_attempt_at <= now,
                )
                .values(
                    status=OutboxStatus.SENDING.value,
                    claimed_until=now + self.lease,
                    attempts=c.attempts + 1,
                )
            ).rowcount
            if claimed != 1:
                return None  # another sender took it
            row = conn.execute(select(outbox_t).where(c.id == row_id)).one()
        notifier = self.notifiers.get(channel)
        if notifier is None:
            return self._finish(
                row, OutboxStatus.FAILED, now, error=f"channel {channel!r} is not configured"
            )
        phase = {"posting": False}

        def committing() -> None:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(outbox_t)
                    .where(c.id == row_id, c.status == OutboxStatus.SENDING.value)
                    .values(status=OutboxStatus.POSTING.value)
                ).rowcount
            if done != 1:
                raise NotifyError("the claim on this notification was lost; not sending")
            phase["posting"] = True

        try:
            notification = Notification.from_json(row.payload)
            receipt = notifier.send(notification, committing)
        except NotifyError as exc:
            return self._failed(row, exc, now, posted=phase["posting"])
        except Exception as exc:  # a bug in a notifier must not stop detection or the drain
            log.exception("notifier %s raised %s", channel, type(exc).__name__)
            err = NotifyError(f"internal error in the {channel} notifier: {type(exc).__name__}")
            err.in_doubt = phase["posting"]
            return self._failed(row, err, now, posted=phase["posting"])
        return self._finish(row, OutboxStatus.SENT, now, receipt=receipt)

    def _failed(
        self, row: Row[Any], exc: NotifyError, now: datetime, *, posted: bool
    ) -> DeliveryOutcome:
        if exc.in_doubt and posted:
            log.warning("%s notification %d unconfirmed: %s", row.channel, row.id, exc.message)
            return self._finish(row, OutboxStatus.UNCONFIRMED, now, error=exc.message)
        if exc.permanent:
            log.error("%s channel failed for good: %s", row.channel, exc.message)
            return self._finish(row, OutboxStatus.FAILED, now, error=exc.message, broken=True)
        created = row.created_at
        if now - created >= GIVE_UP_AFTER:
            return self._finish(
                row,
                OutboxStatus.FAILED,
                now,
                error=f"gave up after {row.attempts} attempts: {exc.message}",
            )
        wait = backoff(row.attempts)
        if exc.retry_after is not None:
            wait = timedelta(seconds=exc.retry_after)
        log.info(
            "%s notification %d: %s; retry in %.0f s",
            row.channel,
            row.id,
            exc.message,
            wait.total_seconds(),
        )
        return self._finish(
            row, OutboxStatus.PENDING, now, error=exc.message, next_attempt_at=now + wait
        )

    def _finish(
        self,
        row: Row[Any],
        status: OutboxStatus,
        now: datetime,
        *,
        error: str | None = None,
        receipt: str | None = None,
        next_attempt_at: datetime | None = None,
        broken: bool = False,
    ) -> DeliveryOutcome:
        c = outbox_t.c
        values: dict[str, Any] = {
            "status": status.value,
            "claimed_until": None,
            "last_error": None if error is None else error[:ERROR_MAX],
        }
        if status is OutboxStatus.SENT:
            values["sent_at"] = now
            if receipt:
                values["payload"] = {**row.payload, "receipt": receipt}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox_t)
                .where(
                    c.id == row.id,
                    c.status.in_([OutboxStatus.SENDING.value, OutboxStatus.POSTING.value]),
                )
                .values(**values)
            )
            if broken:
                mark_broken(conn, row.channel, error or "permanent failure", now)
            elif status is OutboxStatus.SENT:
                state = conn.execute(
                    select(channels_t.c.broken).where(channels_t.c.channel == row.channel)
                ).scalar()
                if state:
                    mark_ok(conn, row.channel, now)
        return DeliveryOutcome(row.id, row.channel, status, error)

    # -- until done --------------------------------------------------------------------------

    def deliver(
        self,
        ids: Iterable[int],
        *,
        deadline: timedelta = timedelta(minutes=2),
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[int, DeliveryOutcome]:
        """Drain the rows `ids` until each is final or `deadline` passes (for CLI commands).

        Waits in-process for a 429's `retry_after` or a backoff while the
        deadline allows; returns each row's last outcome (a row still pending
        at the deadline stays in the outbox for the daemon).
        """
        ids = list(ids)
        start = self.clock()
        last: dict[int, DeliveryOutcome] = {}
        while True:
            now = self.clock()
            result = self.drain(now, only_ids=[i for i in ids if i not in _final(last)])
            for o in result.outcomes:
                last[o.row_id] = o
            pending = [i for i in ids if i not in _final(last)]
            if not pending:
                return last
            with self.engine.connect() as conn:
                due = conn.execute(
                    select(func.min(outbox_t.c.next_attempt_at)).where(
                        outbox_t.c.id.in_(pending),
                        outbox_t.c.status == OutboxStatus.PENDING.value,
                    )
                ).scalar()
            if due is None or due - start > deadline:
                return last
            wait = (due - self.clock()).total_seconds()
            if wait > 0:
                sleep(min(wait, deadline.total_seconds()))


def _final(outcomes: Mapping[int, DeliveryOutcome]) -> set[int]:
    return {i for i, o in outcomes.items() if o.status.final}


# -- what `logvigil status` shows -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    channel: str
    broken: bool
    reason: str | None
    pending: int
    unconfirmed: int
    failed: int
    #: The newest message the channel accepted: see `channel_status`.
    last_sent_at: datetime | None


def channel_status(conn: Connection, channels: Iterable[str] = ()) -> list[ChannelStatus]:
    """Per channel (configured or seen in the outbox): health and row counts.

    `last_sent_at` is the one answer to "when did this channel last take a message":
    the newest `sent_at` of its outbox rows (incidents, digests, `--post`), or the
    time its channel state was last marked ok, whichever is later. Only a delivery
    marks a channel ok (a successful `notify test`, or an outbox row sent after the
    channel was broken), so a test counts as a delivery. While a channel is marked
    broken, its state row holds the failure, and only outbox deliveries count.
    """
    counts: dict[str, dict[str, int]] = {}
    last_sent: dict[str, datetime] = {}
    for ch, status, n in conn.execute(
        select(outbox_t.c.channel, outbox_t.c.status, func.count()).group_by(
            outbox_t.c.channel, outbox_t.c.status
        )
    ):
        counts.setdefault(ch, {})[status] = n
    for ch, at in conn.execute(
        select(outbox_t.c.channel, func.max(outbox_t.c.sent_at)).group_by(outbox_t.c.channel)
    ):
        if at is not None:
            last_sent[ch] = utc(at)
    states = {r.channel: r for r in conn.execute(select(channels_t))}
    for ch, st in states.items():
        if not st.broken and st.updated_at is not None:  # marked ok: a delivery
            ok_at = utc(st.updated_at)
            if ch not in last_sent or ok_at > last_sent[ch]:
                last_sent[ch] = ok_at
    names = sorted(set(channels) | set(counts) | set(states))
    out = []
    for ch in names:
        c = counts.get(ch, {})
        st = states.get(ch)
        out.append(
            ChannelStatus(
                channel=ch,
                broken=bool(st.broken) if st is not None else False,
                reason=st.reason if st is not None and st.broken else None,
                pending=sum(
                    c.get(s.value, 0)
                    for s in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.POSTING)
                ),
                unconfirmed=c.get(OutboxStatus.UNCONFIRMED.value, 0),
                failed=c.get(OutboxStatus.FAILED.value, 0),
                last_sent_at=last_sent.get(ch),
            )
        )
    return out
