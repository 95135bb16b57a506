"""Exactly one detecting process leads; another takes over when it dies.

The unit tests use each backend's real lock; the process test runs two real
`logvigil run --role detect` daemons against the real PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_support import INVENTORY, kill_hard, start_daemon, stop, wait_for
from freezegun import freeze_time
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from logvigil.app.leader import FileLeader, Leadership, current_leader, leader_for
from logvigil.core.timeutil import wall_clock
from logvigil.store.database import create_store_engine
from logvigil.store.schema import Counter
from migrations.apply import migrate


def test_a_second_lock_on_the_same_sqlite_store_is_refused_until_the_first_is_released(
    tmp_path: Path,
) -> None:
    first, second = FileLeader(tmp_path / "db.leader"), FileLeader(tmp_path / "db.leader")
    assert first.try_acquire() and first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire() and second.held


def test_only_one_engine_holds_the_database_lock(engine) -> None:
    other = create_store_engine(engine.url.render_as_string(hide_password=False))
    a, b = leader_for(engine), leader_for(other)
    try:
        assert a.try_acquire()
        assert not b.try_acquire()
        assert a.try_acquire(), "the holder confirms its lock"
        a.release()
        assert b.try_acquire()
        assert not a.try_acquire()
    finally:
        a.release()
        b.release()
        other.dispose()


def test_a_dead_lock_connection_hands_leadership_over(engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("the SQLite lock is a file lock of the process")
    other = create_store_engine(engine.url.render_as_string(hide_password=False))
    a, b = leader_for(engine), leader_for(other)
    try:
        assert a.try_acquire()
        a._conn.invalidate()  # the server side of the session goes away, as when a process dies
        a._conn = None
        assert wait_for(b.try_acquire, timeout=10, what="the lock to be free")
    finally:
        b.release()
        other.dispose()


def _leadership(engine, lock: Path, who: str, on_takeover=lambda: None) -> Leadership:
    return Leadership(FileLeader(lock), engine, who, clock=wall_clock, on_takeover=on_takeover)


def test_the_heartbeat_is_the_wall_clock_of_the_leaders_last_confirmation(
    engine, tmp_path: Path
) -> None:
    first = _leadership(engine, tmp_path / "db.leader", "hub-01:7")
    second = _leadership(engine, tmp_path / "db.leader", "hub-02:8")
    with freeze_time("2026-03-04 10:00:05"):
        assert first.confirm() and not second.confirm()
    with freeze_time("2026-03-04 10:01:05"):
        assert first.confirm()
    with engine.connect() as conn:
        assert current_leader(conn) == ("hub-01:7", 1772618465)  # 10:01:05 UTC
    first.release()  # as when its process dies
    with freeze_time("2026-03-04 10:02:05"):
        assert second.confirm() and second.held
    with engine.connect() as conn:
        assert current_leader(conn) == ("hub-02:8", 1772618525)
        beats = conn.execute(select(Counter.key).where(Counter.name == "leader")).scalars()
        assert list(beats) == ["hub-02:8"], "a takeover removes the previous leader's heartbeat"


def test_a_takeover_that_cannot_reload_the_state_gives_the_lock_back(
    engine, tmp_path: Path
) -> None:
    def broken() -> None:
        raise RuntimeError("store unreadable")

    failing = _leadership(engine, tmp_path / "db.leader", "hub-01:7", on_takeover=broken)
    assert not failing.confirm() and not failing.held
    with engine.connect() as conn:
        assert current_leader(conn) is None
    assert _leadership(engine, tmp_path / "db.leader", "hub-02:8").confirm()


# --------------------------------------------------------------------------- two processes


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (advisory locks are per database), dropped after."""
    url = os.environ.get("LOGVIGIL_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("LOGVIGIL_TEST_POSTGRES_URL is not set")
    name = f"logvigil_leader_{uuid.uuid4().hex[:12]}"
    admin = create_store_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _config(tmp_path: Path, name: str, db_url: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    cfg = folder / "logvigil.yaml"
    cfg.write_text(
        f"data_dir: {folder / 'data'}\n"
        f"database:\n  url: {db_url}\n"
        "detector:\n  tick_seconds: 2\n"
        f"graph:\n  inventory: {INVENTORY}\n"
    )
    return cfg


@pytest.mark.slow
def test_two_detect_processes_on_postgresql_one_leads_and_the_other_takes_over(
    tmp_path: Path, fresh_postgres: str
) -> None:
    engine = create_store_engine(fresh_postgres)
    migrate(engine)  # before the daemons, so they do not race to create the schema
    host = socket.gethostname()

    def leaders() -> dict[str, int]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Counter.key, Counter.count).where(Counter.name == "leader")
            ).all()
        return dict(rows)

    a = start_daemon(
        _config(tmp_path, "a", fresh_postgres), "--role", "detect", log=tmp_path / "a.log"
    )
    b = None
    code_b = None
    try:
        ident_a = f"{host}:{a.pid}"
        wait_for(lambda: ident_a in leaders(), timeout=60, what="the first daemon to lead")
        b = start_daemon(
            _config(tmp_path, "b", fresh_postgres), "--role", "detect", log=tmp_path / "b.log"
        )
        ident_b = f"{host}:{b.pid}"
        wait_for(
            lambda: "logvigil running as detect" in (tmp_path / "b.log").read_text(),
            timeout=60,
            what="the second daemon to start",
        )
        # Several ticks of both: the first keeps leading, the second never ticks.
        beat = leaders()[ident_a]
        wait_for(lambda: leaders().get(ident_a, 0) >= beat + 6, timeout=30, what="3 more ticks")
        assert set(leaders()) == {ident_a}
        with engine.connect() as conn:
            assert current_leader(conn)[0] == ident_a
        assert "detector leader now" not in (tmp_path / "b.log").read_text()

        killed_at = time.time()
        kill_hard(a)
        wait_for(lambda: ident_b in leaders(), timeout=60, what="the second daemon to take over")
        took = leaders()[ident_b] - killed_at
        assert set(leaders()) == {ident_b}, "the dead leader's heartbeat is removed on takeover"
        print(f"takeover {took:.1f} s after SIGKILL (tick 2 s)")
        # It goes on ticking as the leader.
        beat = leaders()[ident_b]
        wait_for(lambda: leaders().get(ident_b, 0) >= beat + 4, timeout=30, what="its next ticks")
        assert b.poll() is None
    finally:
        if a.poll() is None:
            kill_hard(a)
        if b is not None:
            code_b = stop(b)
        engine.dispose()
    assert code_b == 0, (tmp_path / "b.log").read_text()[-3000:]
    assert "Traceback" not in (tmp_path / "b.log").read_text()
