"""Leadership: exactly one process detects, ticks, investigates and sends notifications.

Several `logvigil run --role ingest` processes may write into one store; among
the processes that detect (`--role detect` or `all`), the one holding a lock in
the store is the leader. The lock belongs to a session, so it dies with the
process (or its connection) and another process takes over at its next try:

- PostgreSQL: `pg_try_advisory_lock(key)` on a dedicated connection;
- MariaDB / MySQL: `GET_LOCK(name, 0)` on a dedicated connection;
- SQLite: an exclusive `flock` on a file next to the database file (every
  process sharing a SQLite file is on the same machine).

`try_acquire()` never blocks and never raises: a store that cannot be reached
means "not the leader", and the next call tries again. `Leadership` is what the
daemon asks before each leader-only job: it takes or confirms the lock, reloads
the detector state on a takeover and records the leader's heartbeat.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, delete, select, text

from logvigil.app.metrics import DaemonMetrics
from logvigil.store.schema import Counter
from logvigil.store.upsert import upsert

log = logging.getLogger(__name__)

#: The advisory lock key on PostgreSQL ("LOGVIGIL" in ASCII, as a signed 64-bit integer).
PG_LOCK_KEY = int.from_bytes(b"LOGVIGIL", "big", signed=True)
#: The named lock on MariaDB / MySQL.
MYSQL_LOCK_NAME = "logvigil.leader"


def identity() -> str:
    """This process as other processes see it: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Leader(Protocol):
    @property
    def held(self) -> bool:
        """Whether the last `try_acquire` succeeded (no I/O)."""
        ...

    def try_acquire(self) -> bool:
        """Take or confirm leadership; False when another process holds it."""
        ...

    def release(self) -> None: ...


class AlwaysLeader:
    """The only process there can be (an in-memory SQLite store)."""

    held = True

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileLeader:
    """An exclusive `flock` on `path`; the kernel releases it when the process dies."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fh: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def try_acquire(self) -> bool:
        if self._fh is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.path.open("a+b")
        except OSError as exc:
            log.error("cannot open the leader lock %s: %s", self.path, exc.strerror)
            return False
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.truncate(0)
        fh.write(identity().encode())
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class DatabaseLeader:
    """A session-level lock held on a dedicated connection of `engine`.

    While held, each `try_acquire` checks that the connection is still alive; a
    lost connection means the lock is lost too (the server released it), so
    leadership is given up and tried again on a fresh connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect not in ("postgresql", "mysql", "mariadb"):
            raise ValueError(f"no database lock for {self.dialect}")
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1")
                return True
            except Exception as exc:
                log.warning(
                    "the leader's lock connection was lost (%s); retrying", type(exc).__name__
                )
                self._drop()
        try:
            conn = self.engine.connect()
        except Exception as exc:
            log.warning("cannot reach the store to take leadership: %s", type(exc).__name__)
            return False
        try:
            if self.dialect == "postgresql":
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
            else:
                got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": MYSQL_LOCK_NAME})
            acquired = bool(got.scalar())
            conn.commit()  # end the implicit transaction; the lock belongs to the session
        except Exception as exc:
            log.warning("taking leadership failed: %s", type(exc).__name__)
            acquired = False
        if not acquired:
            conn.close()
            return False
        self._conn = conn
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        try:
            conn.invalidate()  # never return a connection that may hold the lock to the pool
            conn.close()
        except Exception:
            pass

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            if self.dialect == "postgresql":
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            else:
                self._conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": MYSQL_LOCK_NAME})
            self._conn.commit()
        except Exception:
            pass
        self._drop()


def leader_for(engine: Engine) -> Leader:
    """The leadership lock that fits the store of `engine`."""
    if engine.dialect.name == "sqlite":
        db = engine.url.database
        if not db or db == ":memory:" or db.startswith("file:"):
            return AlwaysLeader()
        return FileLeader(Path(db).with_name(Path(db).name + ".leader"))
    return DatabaseLeader(engine)


# --------------------------------------------------------------------------- heartbeat

#: The counters rows naming the leader: key = its identity, count = its last tick (epoch s).
HEARTBEAT = "leader"


def record_heartbeat(engine: Engine, who: str, now_epoch: int, *, took_over: bool) -> None:
    """Note in the store that `who` leads as of `now_epoch`, for `logvigil status` and tests.

    On a takeover the previous leaders' rows are removed in the same transaction.
    """
    table = Counter.__table__
    with engine.begin() as conn:
        if took_over:
            conn.execute(delete(table).where(table.c.name == HEARTBEAT, table.c.key != who))
        upsert(
            conn,
            table,
            [{"name": HEARTBEAT, "key": who[:255], "count": now_epoch}],
            {"count": "replace"},
        )


def current_leader(conn: Connection) -> tuple[str, int] | None:
    """(identity, epoch seconds of its last tick) of the latest leader, or None."""
    row = conn.execute(
        select(Counter.key, Counter.count)
        .where(Counter.name == HEARTBEAT)
        .order_by(Counter.count.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], int(row[1]))


# --------------------------------------------------------------------------- leadership


class Leadership:
    """Who among the detecting processes runs the leader-only jobs, asked before each one.

    `lock` is the leadership lock (`leader_for`); `on_takeover` runs when this process
    has just become the leader (the daemon reloads the detector state: what it loaded
    at start is as old as the previous leader's work) and may raise to give the lock
    back; `metrics`, when given, shows whether this process leads; `role` (the
    process's `--role`) goes into the logs.
    """

    def __init__(
        self,
        lock: Leader,
        engine: Engine,
        who: str,
        *,
        clock: Callable[[], datetime],
        on_takeover: Callable[[], None],
        metrics: DaemonMetrics | None = None,
        role: str = "all",
    ) -> None:
        self.lock = lock
        self.role = role
        self.engine = engine
        self.who = who
        self.clock = clock
        self.on_takeover = on_takeover
        self.metrics = metrics

    @property
    def held(self) -> bool:
        """Whether this process led at the last `confirm` (no I/O)."""
        return self.lock.held

    def confirm(self) -> bool:
        """Take or confirm leadership; False (and nothing to do) for a follower.

        Never raises: a takeover whose `on_takeover` fails gives the lock back and
        follows until the next try; a heartbeat that cannot be written is logged.
        """
        was = self.lock.held
        if not self.lock.try_acquire():
            if was:
                log.warning("lost the detector leadership; following", extra={"role": self.role})
            self._show(False)
            return False
        if not was:
            log.info("detector leader now: %s", self.who, extra={"leader": self.who})
            try:
                self.on_takeover()
            except Exception:
                log.exception("reloading the detector state failed; following for now")
                self.lock.release()
                return False
        self._show(True)
        try:
            now = int(self.clock().timestamp())
            record_heartbeat(self.engine, self.who, now, took_over=not was)
        except Exception as exc:
            log.warning("recording the leader heartbeat failed: %s", type(exc).__name__)
        return True

    def release(self) -> None:
        self.lock.release()

    def _show(self, leads: bool) -> None:
        if self.metrics is not None:
            self.metrics.leader.set(1 if leads else 0)
