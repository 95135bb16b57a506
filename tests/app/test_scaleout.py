"""Scale-out pieces in one process: template id blocks, roles, and the leader-only jobs."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from logvigil.app.daemon import Daemon, Role
from logvigil.app.leader import FileLeader, current_leader
from logvigil.app.runtime import Runtime
from logvigil.app.settings import Settings
from logvigil.ingest.sources import FileTail
from logvigil.ingest.templates import TemplateMiner
from logvigil.store.ids import TemplateIdBlocks, reserve_block
from logvigil.store.schema import Template
from logvigil.store.source_health import (
    SourceHealthRecord,
    read_source_health,
    record_source_health,
)

T0 = datetime(2026, 3, 4, 10, 0, 30, tzinfo=UTC)


def test_id_blocks_never_overlap_and_start_above_every_stored_id(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Template),
            [
                {
                    "id": 41,
                    "template": "x <*>",
                    "first_seen": T0,
                    "last_seen": T0,
                    "count": 1,
                    "max_severity": 6,
                }
            ],
        )
    first = reserve_block(engine, 10)
    assert first == range(42, 52)
    blocks: list[range] = []
    threads = [
        threading.Thread(target=lambda: blocks.append(reserve_block(engine, 100))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for b in [first, *blocks] for i in b]
    assert len(ids) == len(set(ids)) == 410


def test_a_miner_with_an_allocator_takes_its_ids_and_skips_taken_ones() -> None:
    handed = iter([5, 7, 8])
    miner = TemplateMiner(templates=[(7, "known text here")], next_id=lambda: next(handed))
    assert miner.add("disk sda failed").template_id == 5
    assert miner.add("fan speed low on board").template_id == 8  # 7 is taken
    assert miner.add("known text here").template_id == 7
    rebuilt = TemplateMiner(templates=miner.templates())
    assert rebuilt.match("disk sda failed").template_id == 5


def test_two_ingest_miners_on_one_store_never_share_an_id(engine) -> None:
    a = TemplateMiner(next_id=TemplateIdBlocks(engine, block=3))
    b = TemplateMiner(next_id=TemplateIdBlocks(engine, block=3))
    words = ("alpha", "bravo", "charlie", "delta", "echo")
    ids_a = {a.add(f"{w} service started").template_id for w in words}
    ids_b = {b.add(f"{w} job finished early").template_id for w in words}
    assert len(ids_a) == len(ids_b) == 5 and not ids_a & ids_b


def _runtime(tmp_path: Path, name: str) -> Runtime:
    settings = Settings.model_validate(
        {"data_dir": str(tmp_path / name), "graph": {"inventory": str(tmp_path / "none.yaml")}}
    )
    return Runtime(settings, db_url=f"sqlite:///{tmp_path / 'store.db'}", shared_store=True)


def test_only_the_leader_ticks_and_a_follower_takes_over_when_it_stops(tmp_path: Path) -> None:
    lock = tmp_path / "store.db.leader"
    first, second = _runtime(tmp_path, "a"), _runtime(tmp_path, "b")
    clock = lambda: T0  # noqa: E731
    a = Daemon(first, [], role=Role.DETECT, leader=FileLeader(lock), clock=clock)
    b = Daemon(
        second,
        [],
        role=Role.DETECT,
        leader=FileLeader(lock),
        clock=clock,
        identity="other-host:1",
    )
    try:
        assert a.tick() is not None
        assert b.tick() is None and not b.leader.held
        with first.engine.connect() as conn:
            assert current_leader(conn)[0] == a.identity
        a.leader.release()  # as when its process dies
        assert b.tick() is not None and b.leader.held
        with first.engine.connect() as conn:
            assert current_leader(conn)[0] == "other-host:1"
    finally:
        for rt in (first, second):
            rt.close()


def test_an_ingest_process_never_ticks(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "a")
    try:
        daemon = Daemon(runtime, [], role=Role.INGEST, leader=FileLeader(tmp_path / "l"))
        assert daemon.tick() is None and not daemon.leader.held
        assert daemon.status().to_json()["role"] == "ingest"
    finally:
        runtime.close()


def test_source_health_is_replaced_per_source_on_every_backend(engine) -> None:
    first = SourceHealthRecord(
        source="ssh:db-02",
        process="hub-02:9",
        kind="ssh_journald",
        updated_at=T0,
        host="db-02",
        lines=10,
        unreachable_since=T0 - timedelta(minutes=3, microseconds=250),
        unreachable_grace_s=120,
        error="ssh: connect to host db-02 port 22: Connection refused",
    )
    record_source_health(engine, [first])
    later = replace(first, updated_at=T0 + timedelta(seconds=5), lines=12, unreachable_since=None)
    other = SourceHealthRecord(source="file:/a.log", process="web-01:7", kind="file", updated_at=T0)
    record_source_health(engine, [later, other])
    with engine.connect() as conn:
        assert read_source_health(conn) == [other, later]
    assert later.stale(T0 + timedelta(minutes=2)) and not later.stale(T0 + timedelta(seconds=30))


def test_a_detect_only_leader_reports_a_host_another_process_cannot_reach(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "a")
    since = T0 - timedelta(minutes=10)
    down = SourceHealthRecord(
        source="ssh:db-02",
        process="hub-02:9",
        kind="ssh_journald",
        updated_at=T0 - timedelta(seconds=5),
        host="db-02",
        unreachable_since=since,
        unreachable_grace_s=120,
        error="Connection refused",
    )
    young = replace(down, source="ssh:db-03", host="db-03", unreachable_since=T0)  # in its grace
    gone = replace(down, source="ssh:db-04", host="db-04", updated_at=T0 - timedelta(minutes=5))
    fine = replace(down, source="ssh:db-05", host="db-05", unreachable_since=None, error=None)
    record_source_health(runtime.engine, [down, young, gone, fine])
    try:
        daemon = Daemon(
            runtime, [], role=Role.DETECT, leader=FileLeader(tmp_path / "l"), clock=lambda: T0
        )
        (finding,) = daemon.tick().findings  # the host_unreachable detector reads the store
        assert (finding.kind, finding.host, finding.started_at) == (
            "host_unreachable",
            "db-02",
            since,
        )
        assert finding.evidence["source"] == "ssh:db-02"
        assert "Connection refused" in finding.summary
    finally:
        runtime.close()


def test_an_ingest_daemon_records_its_sources_in_the_store(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("worker 1 started\nworker 2 started\n")
    runtime = _runtime(tmp_path, "a")
    clock = lambda: T0  # noqa: E731
    try:
        daemon = Daemon(
            runtime,
            [FileTail(log, "raw")],
            role=Role.INGEST,
            leader=FileLeader(tmp_path / "l"),
            clock=clock,
        )
        daemon.sources.poll(daemon.sources.active[0], runtime.ingestor)
        daemon.write_status()
        with runtime.engine.connect() as conn:
            (health,) = read_source_health(conn)
        assert (health.source, health.kind, health.process) == (
            f"file:{log}",
            "file",
            daemon.identity,
        )
        assert (health.lines, health.error, health.updated_at) == (2, None, T0)
        assert health.host is None and health.unreachable_since is None
    finally:
        runtime.close()
