"""What `logvigil status` shows: the store's view and the local daemon's status file.

Two places, because they answer different questions. The store is shared by
every process (on every machine): the last tick, the leader, each source's
committed cursor and health (lines, current error, newest event, the process
reading it, rewritten every few seconds), learning, incidents and the outbox.
What only the local daemon knows (its role, the inventory it has loaded and
the edits it refused) is written every few seconds to `status.json` in its
data directory (`ProcessStatus`), atomically, and read from there.

One source of truth each: the last tick is the newest row of the `ticks` table
(written by the leader for every window of minutes it evaluates); the leader's
heartbeat (the `counters` row it rewrites each time it confirms its lock, before
every tick, including those with no complete minute to evaluate) only says that a
leader is alive, and is shown as such. A channel's last delivery is
`notify.outbox.channel_status`'s, as in `logvigil notify status`.

Ages are `now - time` in seconds; a time stamped in the future (a remote clock
ahead, a line dated 2199) gives a negative age, which the JSON keeps (with an
`..._in_future` flag) and the text shows as "in the future: <time>", never as an age.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from detector.tick import TickResult
from logvigil.app.leader import current_leader
from logvigil.app.settings import Settings
from logvigil.core.timeutil import iso_z, iso_z_or_none, parse_iso_or_none
from logvigil.store.cursors import committed_at
from logvigil.store.schema import IncidentRow, ServiceTemplate, TickRow

# A status file, like a source health row, older than this means its daemon is not
# running (it rewrites both every 5 s).
from logvigil.store.source_health import STALE_AFTER, read_source_health
from notify import configured_channels
from notify.outbox import channel_status

#: The status file's name in the daemon's data directory.
STATUS_FILE = "status.json"
#: The shape of the status file; a reader ignores a file of another version.
STATUS_VERSION = 1


@dataclass(frozen=True)
class ProcessStatus:
    """What one running daemon says of itself in its status file.

    `problems` are the inventory edits it refused (the last good graph stays in use);
    `last_tick` is None until this process has ticked.
    """

    identity: str
    pid: int
    role: str
    leader: bool
    stopped: bool
    started_at: datetime
    updated_at: datetime
    inventory_path: str
    hosts: int
    services: int
    problems: Sequence[str] = ()
    last_tick: TickResult | None = None

    def to_json(self) -> dict[str, Any]:
        """The status file's JSON object."""
        last = self.last_tick
        return {
            "version": STATUS_VERSION,
            "identity": self.identity,
            "pid": self.pid,
            "role": self.role,
            "leader": self.leader,
            "stopped": self.stopped,
            "started_at": iso_z(self.started_at),
            "updated_at": iso_z(self.updated_at),
            "inventory": {
                "path": self.inventory_path,
                "hosts": self.hosts,
                "services": self.services,
                "problems": list(self.problems),
            },
            "last_tick": None
            if last is None
            else {
                "at": iso_z(last.at),
                "duration_ms": round(last.duration_ms, 1),
                "findings": len(last.findings),
            },
        }


def write_status_file(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` as JSON, atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(data, default=str))
    os.replace(tmp, path)


def read_status_file(path: Path) -> dict[str, Any] | None:
    """The status a daemon wrote at `path`, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == STATUS_VERSION else None


def gather(
    engine: Engine,
    settings: Settings,
    now: datetime,
    process: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything `logvigil status` prints, as one JSON-ready dict.

    `process` is the local daemon's status file (or None). Raises SQLAlchemy
    errors when the store cannot be read.
    """
    with engine.connect() as conn:
        tick = conn.execute(
            select(TickRow.at, TickRow.duration_ms, TickRow.findings, TickRow.errors)
            .order_by(TickRow.id.desc())
            .limit(1)
        ).first()
        incidents = conn.execute(
            select(IncidentRow.id, IncidentRow.title, IncidentRow.opened_at, IncidentRow.severity)
            .where(IncidentRow.resolved_at.is_(None))
            .order_by(IncidentRow.id.desc())
        ).all()
        cursors = committed_at(conn)
        learning = conn.execute(
            select(ServiceTemplate.service, func.min(ServiceTemplate.first_seen)).group_by(
                ServiceTemplate.service
            )
        ).all()
        leader = current_leader(conn)
        health = read_source_health(conn)
        channels = channel_status(conn, configured_channels(settings.notify))

    period = timedelta(hours=settings.detector.learning_period_hours)
    services = []
    for service, first in sorted(learning):
        # A service first seen in the future (its host's clock is ahead) has learnt nothing yet.
        done = 1.0 if period.total_seconds() == 0 else max(0.0, min(1.0, (now - first) / period))
        services.append(
            {
                "service": service,
                "first_seen": iso_z_or_none(first),
                "first_seen_in_future": first > now,
                "learning": done < 1.0,
                "progress": round(done, 3),
                "learned_at": iso_z_or_none(first + period),
            }
        )

    sources: dict[str, dict[str, Any]] = {}
    for name, updated in cursors.items():
        sources[name] = {"committed_at": iso_z_or_none(updated), "lag_s": _seconds(now - updated)}
    for h in health:
        entry = sources.setdefault(h.source, {"committed_at": None, "lag_s": None})
        entry.update(
            {
                "kind": h.kind,
                "process": h.process,
                "running": not h.stale(now),
                "updated_at": iso_z_or_none(h.updated_at),
                "host": h.host,
                "error": h.error,
                "failures": h.failures,
                "lines": h.lines,
                "last_event_at": iso_z_or_none(h.last_event_at),
                "event_lag_s": None if h.last_event_at is None else _seconds(now - h.last_event_at),
                "last_event_in_future": h.last_event_at is not None and h.last_event_at > now,
                "unreachable_since": iso_z_or_none(h.unreachable_since),
            }
        )

    daemon = None
    if process is not None:
        updated = parse_iso_or_none(process.get("updated_at"))
        daemon = {
            "identity": process.get("identity"),
            "role": process.get("role"),
            "leader": process.get("leader"),
            "started_at": process.get("started_at"),
            "updated_at": process.get("updated_at"),
            "running": not process.get("stopped")
            and updated is not None
            and now - updated <= STALE_AFTER,
        }

    inventory: dict[str, Any] = {"path": str(settings.graph.inventory)}
    if process is not None and isinstance(process.get("inventory"), dict):
        inventory.update(process["inventory"])

    return {
        "now": iso_z_or_none(now),
        "daemon": daemon,
        # The leader's heartbeat: it holds the lock (not that it evaluated a minute).
        "leader": None
        if leader is None
        else {
            "identity": leader[0],
            "heartbeat_at": iso_z_or_none(datetime.fromtimestamp(leader[1], UTC)),
            "age_s": round(now.timestamp() - leader[1], 1),
        },
        # The one source of the last tick: the newest evaluated window in `ticks`.
        "last_tick": None
        if tick is None
        else {
            "at": iso_z_or_none(tick.at),
            "age_s": _seconds(now - tick.at),
            "duration_ms": round(tick.duration_ms, 1),
            "findings": tick.findings,
            "errors": tick.errors or {},
        },
        "sources": sources,
        "learning": services,
        "open_incidents": len(incidents),
        "incidents": [
            {
                "id": i.id,
                "title": i.title,
                "opened_at": iso_z_or_none(i.opened_at),
                "severity": i.severity,
            }
            for i in incidents[:20]
        ],
        "inventory": inventory,
        "channels": [
            {
                "channel": c.channel,
                "broken": c.broken,
                "reason": c.reason,
                "pending": c.pending,
                "unconfirmed": c.unconfirmed,
                "failed": c.failed,
                "last_sent_at": iso_z_or_none(c.last_sent_at),
            }
            for c in channels
        ],
    }


def _seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 1)
