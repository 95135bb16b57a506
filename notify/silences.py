"""Silences in SQL: add, list, remove. Silenced incidents are recorded and investigated,
only not notified (see `policy.silenced_by`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from logvigil.core.duration import parse_duration as core_parse_duration
from logvigil.store.schema import NAME_LEN, SilenceRow
from notify.policy import Silence

silences_t = SilenceRow.__table__

#: A silence lasts at most this long; a permanent mute is a config change (routes).
MAX_DURATION = timedelta(days=90)


class SilenceError(ValueError):
    """A bad silence; the message names the field (`--for`, `--service`, ...)."""


def parse_duration(text: str) -> timedelta:
    """`2h`, `30m`, `1d`, `1h30m` -> timedelta. Raises SilenceError naming `--for`."""
    try:
        return core_parse_duration(text, at_most=MAX_DURATION)
    except ValueError as exc:
        raise SilenceError(f"--for: {exc}, got: {text!r}") from None


def _name(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise SilenceError(f"{field} must not be empty")
    if len(value) > NAME_LEN:
        raise SilenceError(f"{field} must be at most {NAME_LEN} characters")
    return value


def add(
    conn: Connection,
    *,
    service: str | None,
    host: str | None,
    duration: timedelta,
    reason: str,
    now: datetime,
) -> Silence:
    """Store a silence from `now` for `duration`; raises SilenceError for bad input."""
    service, host = _name("--service", service), _name("--host", host)
    if service is None and host is None:
        raise SilenceError("a silence needs --service or --host (or both)")
    if not reason or not reason.strip():
        raise SilenceError("--reason must not be empty: say why notifications are muted")
    if duration <= timedelta(0):
        raise SilenceError(f"--for must be positive, got: {duration}")
    row = {
        "service": service,
        "host": host,
        "reason": reason.strip(),
        "created_at": now,
        "expires_at": now + duration,
        "removed_at": None,
    }
    new_id = conn.execute(insert(silences_t), row).inserted_primary_key[0]
    return Silence(id=int(new_id), **row)


def _silence(r) -> Silence:
    return Silence(r.id, r.service, r.host, r.reason, r.created_at, r.expires_at, r.removed_at)


def list_silences(
    conn: Connection, now: datetime, *, include_expired: bool = False
) -> list[Silence]:
    """Active silences (or all of them), newest first."""
    stmt = select(silences_t).order_by(silences_t.c.created_at.desc(), silences_t.c.id.desc())
    if not include_expired:
        stmt = stmt.where(silences_t.c.removed_at.is_(None), silences_t.c.expires_at > now)
    return [_silence(r) for r in conn.execute(stmt)]


def active(conn: Connection, now: datetime) -> list[Silence]:
    return [s for s in list_silences(conn, now) if s.active(now)]


def remove(conn: Connection, silence_id: int, now: datetime) -> Silence:
    """End a silence now; raises SilenceError when there is no active silence of that id."""
    done = conn.execute(
        update(silences_t)
        .where(
            silences_t.c.id == silence_id,
            silences_t.c.removed_at.is_(None),
            silences_t.c.expires_at > now,
        )
        .values(removed_at=now)
    ).rowcount
    if done != 1:
        raise SilenceError(f"no active silence with id {silence_id}")
    row = conn.execute(select(silences_t).where(silences_t.c.id == silence_id)).one()
    return _silence(row)
