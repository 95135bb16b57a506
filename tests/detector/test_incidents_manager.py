"""IncidentManager on real stores: SQLite, PostgreSQL and MariaDB (when their URLs are
exported), with the topology answered by a real embedded FalkorDB."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from incident_support import INVENTORY, at, finding
from sqlalchemy import Engine, event, func, insert, select

from detector.incidents import repository as repo
from detector.incidents.bundle import encoded_size
from detector.incidents.grouping import GroupingOutcome
from detector.incidents.manager import ChangeKind, IncidentManager, IncidentNotFound
from detector.incidents.model import (
    BundleConfig,
    IllegalTransition,
    IncidentConfig,
    IncidentStatus,
    RootRef,
)
from detector.incidents.storm import FIRINGS, LAST_FIRED_AT
from detector.incidents.topology import GraphTopology, InventoryTopology
from graph.inventory import Inventory, load_inventory
from graph.store import GraphStore
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.timeutil import iso_z
from logvigil.store.bulk import executemany
from logvigil.store.database import create_store_engine
from logvigil.store.schema import Event, IncidentFinding, MinuteCount, ServiceTemplate, Template
from migrations.apply import migrate


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    path = tmp_path_factory.mktemp("inv") / "inventory.yaml"
    path.write_text(INVENTORY)
    return load_inventory(Path(path))


@pytest.fixture(scope="module")
def graph(inventory: Inventory) -> Iterator[GraphStore]:
    store = GraphStore.temporary()
    try:
        store.load(inventory)
        yield store
    finally:
        store.close()


@pytest.fixture
def topology(graph: GraphStore, inventory: Inventory) -> GraphTopology:
    return GraphTopology(graph, inventory)


@pytest.fixture
def manager(engine: Engine, topology: GraphTopology) -> IncidentManager:
    return IncidentManager(engine, topology, IncidentConfig())


def oom(minute: float = 0) -> Finding:
    return finding(
        "postgres",
        "db-01",
        minute,
        detector="primitives",
        kind="oom_kill",
        severity=Severity.CRITICAL,
        summary="postgres killed by the OOM killer",
    )


# -- grouping, end to end --------------------------------------------------------------------


def test_a_cascade_over_two_ticks_is_one_incident_rooted_at_postgres(
    manager: IncidentManager,
) -> None:
    first = manager.process([oom(0)], now=at(1))
    second = manager.process(
        [finding("nextcloud", "web-01", 2), finding("nginx", "web-01", 2)], now=at(3)
    )
    assert [c.kind for c in first] == [ChangeKind.OPENED]
    assert [c.kind for c in second] == [ChangeKind.UPDATED]
    incidents = manager.list()
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc.id == first[0].incident.id
    assert inc.root == RootRef("postgres", "db-01")
    assert inc.services == ("nextcloud", "nginx", "postgres")
    assert inc.hosts == ("db-01", "web-01")
    assert inc.blast_radius == ("gitea", "nextcloud", "nginx")
    assert inc.severity is Severity.CRITICAL
    assert inc.title == "postgres OOM-killed on db-01 -> nextcloud, nginx affected"
    assert [f.service for f in inc.findings] == ["postgres", "nextcloud", "nginx"]
    assert inc.last_finding_at == at(3)


def test_a_cascade_in_one_tick_is_one_incident(manager: IncidentManager) -> None:
    changes = manager.process(
        [finding("nginx", "web-01", 2), oom(0), finding("gitea", "app-02", 2)], now=at(3)
    )
    assert [c.kind for c in changes] == [ChangeKind.OPENED]
    assert changes[0].incident.root == RootRef("postgres", "db-01")


def test_unrelated_services_on_different_hosts_are_two_incidents(
    manager: IncidentManager,
) -> None:
    manager.process([finding("postfix", "mail-01", 0), finding("nginx", "web-01", 0)], at(1))
    assert sorted(i.services for i in manager.list()) == [("nginx",), ("postfix",)]


def test_services_on_the_same_host_are_one_incident(manager: IncidentManager) -> None:
    manager.process([finding("postfix", "mail-01", 0)], at(1))
    manager.process([finding("dovecot", "mail-01", 4)], at(5))
    [inc] = manager.list()
    assert inc.services == ("dovecot", "postfix")


def test_a_connected_finding_after_the_grouping_window_opens_a_second_incident(
    engine: Engine, topology: GraphTopology
) -> None:
    manager = IncidentManager(engine, topology, IncidentConfig(resolve_after_quiet_minutes=240))
    manager.process([oom(0)], at(1))
    manager.process([finding("gitea", "app-02", 20)], at(21))  # joins: 19 min after
    manager.process([finding("nextcloud", "web-01", 55)], at(56))  # 34 min after the last
    incidents = manager.list()
    assert [i.services for i in incidents] == [("nextcloud",), ("gitea", "postgres")]


def test_a_repeated_finding_keeps_its_incident_alive_without_growing_it(
    manager: IncidentManager,
) -> None:
    manager.process([oom(0)], at(1))
    changes = manager.process([dataclasses.replace(oom(0), at=at(20))], at(20))
    assert changes == []
    [inc] = manager.list()
    assert len(inc.findings) == 1
    assert inc.last_finding_at == at(20)
    assert manager.last_plan is not None
    assert manager.last_plan.outcomes() == [GroupingOutcome.REPEATED]


def test_a_silent_host_groups_with_the_services_that_need_it_and_is_the_root(
    manager: IncidentManager,
) -> None:
    changes = manager.process(
        [
            finding(None, "db-01", 0, detector="silence", summary="db-01 went silent"),
            finding("gitea", "app-02", 1),
        ],
        at(3),
    )
    [opened] = changes
    assert opened.incident.root == RootRef(None, "db-01")
    assert opened.incident.hosts == ("app-02", "db-01")
    assert opened.incident.to_json()["suspected_root"] == {"service": None, "host": "db-01"}
    assert opened.incident.title.startswith("host db-01 silent -> gitea affected")


def test_an_unknown_incident_is_reported_as_not_found(manager: IncidentManager) -> None:
    assert manager.get(404) is None
    with pytest.raises(IncidentNotFound):
        manager.set_status(404, IncidentStatus.RESOLVED, at(0))


# -- resolution and cooldown -----------------------------------------------------------------


def test_an_incident_resolves_after_the_quiet_period(manager: IncidentManager) -> None:
    manager.process([oom(0)], at(1))
    assert manager.process([], at(30)) == []  # last finding at 10:01, quiet until 10:31
    [change] = manager.process([], at(31))
    assert change.kind is ChangeKind.RESOLVED
    inc = manager.get(change.incident.id)
    assert inc is not None
    assert inc.status is IncidentStatus.RESOLVED
    assert inc.resolved_at == at(31)


def test_quiet_ticks_know_when_the_next_incident_may_resolve(
    engine: Engine, topology: GraphTopology, manager: IncidentManager
) -> None:
    manager.process([oom(0)], at(1))
    assert manager.next_due() == at(31)
    [resolved] = manager.process([], at(31))
    assert resolved.kind is ChangeKind.RESOLVED and manager.next_due() is None
    # Another process (a leader that took over) opened an incident this one has not
    # read: after forget_cached it is read again and resolves on time.
    other = IncidentManager(engine, topology, IncidentConfig())
    other.process([finding("postfix", "mail-01", 40)], at(41))
    manager.forget_cached()
    assert manager.next_due() == at(71)
    assert [c.kind for c in manager.process([], at(71))] == [ChangeKind.RESOLVED]


def test_the_cooldown_suppresses_a_reopen_within_the_hour_and_allows_it_after(
    manager: IncidentManager,
) -> None:
    manager.process([oom(0)], at(1))
    manager.process([], at(31))  # resolved at 10:31, cooldown until 11:31
    assert manager.process([oom(60)], at(61)) == []
    assert manager.last_plan is not None
    [decision] = manager.last_plan.decisions
    assert decision.outcome is GroupingOutcome.SUPPRESSED_COOLDOWN
    assert decision.cooldown_until == at(91)
    # The suppressed recurrence at 11:01 extends the cooldown to 12:01.
    assert manager.process([oom(91)], at(92)) == []
    assert manager.last_plan.decisions[0].cooldown_until == at(121)
    # Quiet for a whole cooldown after the last recurrence: it may page again.
    changes = manager.process([oom(160)], at(161))
    assert [c.kind for c in changes] == [ChangeKind.OPENED]
    assert len(manager.list()) == 2
    assert len(manager.list(status=IncidentStatus.OPEN)) == 1


def test_without_a_recurrence_the_cooldown_ends_an_hour_after_resolution(
    manager: IncidentManager,
) -> None:
    manager.process([oom(0)], at(1))
    manager.process([], at(31))  # resolved at 10:31, cooldown until 11:31
    changes = manager.process([oom(91)], at(92))
    assert [c.kind for c in changes] == [ChangeKind.OPENED]


def test_a_suppressed_recurrence_is_recorded_on_the_resolved_incident(
    manager: IncidentManager,
) -> None:
    [opened] = manager.process([oom(0)], at(1))
    manager.process([], at(31))
    manager.process([oom(60)], at(61))
    inc = manager.get(opened.incident.id)
    assert inc is not None and [f.at for f in inc.findings] == [at(1), at(61)]


def test_another_detector_on_the_same_service_is_not_in_cooldown(
    manager: IncidentManager,
) -> None:
    manager.process([oom(0)], at(1))
    manager.process([], at(31))
    changes = manager.process([finding("postgres", "db-01", 40)], at(41))
    assert [c.kind for c in changes] == [ChangeKind.OPENED]


# -- lifecycle -------------------------------------------------------------------------------


def test_the_lifecycle_is_stored_and_an_illegal_transition_is_refused(
    manager: IncidentManager,
) -> None:
    [opened] = manager.process([oom(0)], at(1))
    iid = opened.incident.id
    assert manager.set_status(iid, IncidentStatus.INVESTIGATING, at(2)).status == "investigating"
    assert manager.set_status(iid, IncidentStatus.REPORTED, at(3)).status == "reported"
    resolved = manager.set_status(iid, IncidentStatus.RESOLVED, at(4))
    assert resolved.resolved_at == at(4)
    with pytest.raises(IllegalTransition):
        manager.set_status(iid, IncidentStatus.OPEN, at(5))
    inc = manager.get(iid)
    assert inc is not None and inc.status is IncidentStatus.RESOLVED


def test_only_one_of_two_concurrent_claims_wins(
    engine: Engine, db_url: str, topology: GraphTopology
) -> None:
    worker_a = IncidentManager(engine, topology)
    other_engine = create_store_engine(db_url)
    try:
        worker_b = IncidentManager(other_engine, topology)
        [opened] = worker_a.process([oom(0)], at(1))
        iid = opened.incident.id
        # both saw it open; each tries to take it
        won_a = worker_a.claim(iid, IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, at(2))
        won_b = worker_b.claim(iid, IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, at(2))
    finally:
        other_engine.dispose()
    assert (won_a, won_b) == (True, False)


def test_an_investigated_incident_still_gains_findings(manager: IncidentManager) -> None:
    [opened] = manager.process([oom(0)], at(1))
    manager.set_status(opened.incident.id, IncidentStatus.INVESTIGATING, at(2))
    [change] = manager.process([finding("gitea", "app-02", 3)], at(4))
    assert change.kind is ChangeKind.UPDATED
    assert change.incident.status is IncidentStatus.INVESTIGATING


# -- topology --------------------------------------------------------------------------------


def test_the_graph_and_the_inventory_topologies_agree(
    topology: GraphTopology, inventory: Inventory
) -> None:
    mem = InventoryTopology(inventory)
    names = [*inventory.services, "unknown"]
    for a in names:
        assert topology.upstream(a) == mem.upstream(a)
        assert topology.blast_radius(a) == mem.blast_radius(a)
        for b in names:
            for depth in (1, 3):
                assert topology.connected(a, b, depth) == mem.connected(a, b, depth), (a, b)
    assert topology.neighbourhood("nextcloud") == mem.neighbourhood("nextcloud")


# -- the context bundle ----------------------------------------------------------------------

SECRET_LINE = (
    "FATAL: password authentication failed for user app password=hunter2 "
    "Authorization: Bearer abcdefghijklmnop "
)


def _seed(engine: Engine, *, lines: int, line_len: int, templates: int) -> None:
    """Events, counts and templates of postgres and nextcloud around T0."""
    with engine.begin() as conn:
        tpl_rows = [
            {
                "id": t,
                "template": f"template {t} <*> password=hunter2 " + "y" * 400,
                "first_seen": at(-600) if t % 2 else at(1),
                "last_seen": at(5),
                "count": 10,
                "max_severity": int(Severity.ERROR),
            }
            for t in range(1, templates + 1)
        ]
        conn.execute(insert(Template.__table__), tpl_rows)
        conn.execute(
            insert(ServiceTemplate.__table__),
            [
                {
                    "service": "postgres" if t % 3 else "nextcloud",
                    "template_id": t,
                    "first_seen": r["first_seen"],
                    "last_seen": at(5),
                    "count": 10,
                    "max_severity": int(Severity.ERROR),
                }
                for t, r in zip(range(1, templates + 1), tpl_rows, strict=True)
            ],
        )
        counts = []
        for t in range(1, templates + 1):
            for m in (-20, -10, 1, 2):
                counts.append(
                    {
                        "minute": at(m),
                        "host": "db-01",
                        "service": "postgres" if t % 3 else "nextcloud",
                        "template_id": t,
                        "severity": int(Severity.ERROR),
                        "count": 5 if m < 0 else 50 + t,
                    }
                )
        conn.execute(insert(MinuteCount.__table__), counts)
        events = [
            {
                "ts": at(-5 + 10 * i / lines),
                "host": "db-01",
                "service": "postgres",
                "severity": int(Severity.ERROR),
                "template_id": 1 + i % templates,
                "message": (SECRET_LINE + f"line {i} " + "z" * line_len)[: max(line_len, 80)],
                "source": "test",
                "attributes": None,
                "truncated": False,
            }
            for i in range(lines)
        ]
        for ts, host, service, msg in [
            (at(0.5), "db-01", "systemd", "postgresql@15-main.service: Scheduled restart job"),
            (at(0.6), "db-01", "systemd", "Started PostgreSQL Cluster 15-main."),
            (at(0.7), "web-01", "systemd", "Started nginx.service."),
            (at(0.8), "mail-01", "systemd", "Started postfix.service."),
        ]:
            events.append(
                {
                    "ts": ts,
                    "host": host,
                    "service": service,
                    "severity": int(Severity.INFO),
                    "template_id": 9999,
                    "message": msg,
                    "source": "test",
                    "attributes": None,
                    "truncated": False,
                }
            )
        executemany(conn, insert(Event.__table__), Event.__table__, events)


def test_the_bundle_holds_counts_first_seen_samples_neighbourhood_and_restarts(
    engine: Engine, manager: IncidentManager
) -> None:
    _seed(engine, lines=40, line_len=120, templates=6)
    [opened] = manager.process(
        [
            finding("postgres", "db-01", 0, template_id=1),
            finding("nextcloud", "web-01", 1),
        ],
        at(3),
    )
    stored = manager.get(opened.incident.id)
    assert stored is not None
    assert stored.bundle is not None and stored.bundle == opened.incident.bundle
    b = stored.bundle.to_json()
    assert b["window"]["start"] == at(-30).isoformat()
    assert b["window"]["onset"] == at(0).isoformat()
    assert [f["service"] for f in b["findings"]] == ["postgres", "nextcloud"]
    pg = {t["template_id"]: t for t in b["templates"]["postgres"]}
    assert pg[1]["before"] == 10 and pg[1]["during"] == 102
    assert [t["template_id"] for t in b["templates"]["postgres"]][:2] == [5, 4]  # busiest first
    assert {(r["service"], r["template_id"]) for r in b["first_seen"]} == {
        ("postgres", 2),
        ("postgres", 4),
        ("nextcloud", 6),
    }
    assert b["samples"] and all(len(s["line"]) <= 300 for s in b["samples"])
    assert b["samples"] == sorted(b["samples"], key=lambda s: (s["ts"], s["service"]))
    assert any(s["template_id"] == 1 for s in b["samples"])
    assert b["neighbourhood"]["nextcloud"]["upstream"] == ["postgres", "redis"]
    assert [r["line"] for r in b["restarts"]] == [
        "postgresql@15-main.service: Scheduled restart job",
        "Started PostgreSQL Cluster 15-main.",
        "Started nginx.service.",
    ]
    assert b["root"]["root"] == {"service": "postgres", "host": "db-01"}
    assert b["trimmed"] == {}
    assert "hunter2" not in json.dumps(b)


def test_the_bundle_stays_bounded_and_redacted_over_ten_thousand_long_lines(
    engine: Engine, topology: GraphTopology
) -> None:
    limits = BundleConfig(max_bytes=16 * 1024)
    manager = IncidentManager(engine, topology, IncidentConfig(bundle=limits))
    _seed(engine, lines=10_000, line_len=2_000, templates=60)
    findings = [finding("postgres", "db-01", 0, template_id=t) for t in range(1, 30)]
    findings.append(finding("nextcloud", "web-01", 1))
    [opened] = manager.process(findings, at(3))
    stored = manager.get(opened.incident.id)
    assert stored is not None and stored.bundle is not None
    text = json.dumps(stored.bundle.to_json())
    assert len(text.encode()) <= limits.max_bytes
    assert encoded_size(stored.bundle.to_json()) <= limits.max_bytes
    assert "hunter2" not in text and "abcdefghijklmnop" not in text
    assert stored.bundle.trimmed  # it says what it cut
    assert stored.bundle.findings  # the findings are the last thing to go
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(IncidentFinding.__table__)).scalar()
    assert n == 30


# -- the sole writer's incidents in memory ---------------------------------------------------


@pytest.mark.parametrize("settles", [False, True], ids=["sole-writer", "replay"])
def test_a_sole_writer_keeps_in_memory_exactly_what_it_would_read_back(
    engine: Engine, manager: IncidentManager, topology: GraphTopology, tmp_path: Path, settles: bool
) -> None:
    """A replay's manager keeps the unresolved incidents between ticks instead of reading
    them every tick; after every step they equal what the store holds, and it decides
    what a manager reading the store decides (same changes, same resolution times).
    With `settle` set (a replay), a step of repeats only is made without a transaction
    (`_repeat_in_memory`)."""
    reading = create_store_engine(f"sqlite:///{tmp_path / 'reading.db'}")
    migrate(reading)
    plain = IncidentManager(reading, topology, IncidentConfig())
    manager.sole_writer = True
    if settles:
        manager.settle = lambda: None
    oom_evidence = {"victim": "postgres", "pid": 4242, "at": at(0)}  # a datetime: JSON-ed
    steps = [
        ([dataclasses.replace(oom(0), evidence=oom_evidence)], 1),
        ([dataclasses.replace(oom(0), at=at(6), evidence=oom_evidence)], 6),  # fires again
        ([finding("gitea", "app-02", 7)], 8),  # joins
        ([], 20),
        ([finding("postfix", "mail-01", 30)], 31),  # unrelated: a second incident
        ([], 61),  # the postfix incident resolves after 30 quiet minutes
        ([finding("postfix", "mail-01", 90)], 91),  # in its cooldown: suppressed
        ([], 120),
        ([], 368),  # the storm (two firings) resolves after 360 quiet minutes
        ([], 400),
    ]
    kinds_expected = [
        [("opened", 1)],
        [],
        [("updated", 1)],
        [],
        [("opened", 2)],
        [("resolved", 2)],
        [],
        [],
        [("resolved", 1)],
        [],
    ]
    kinds, expected = [], []
    for found, minute in steps:
        changes = manager.process(found, at(minute))
        kinds.append([(c.kind.value, c.incident.id) for c in changes])
        manager.write_pending()  # a repeat is written with the next step that reads
        with engine.connect() as conn:
            assert manager._active == repo.load_active(conn), f"after the tick at {minute}"
        assert manager.next_due() == _quiet_end_read_back(engine, manager)
        expected.append([(c.kind.value, c.incident.id) for c in plain.process(found, at(minute))])
    reading.dispose()
    assert kinds == expected == kinds_expected
    [suppressed] = [f for f in manager.get(2).findings if f.at == at(91)]
    assert suppressed.service == "postfix"
    [firings] = [f.evidence for f in manager.get(1).findings if f.kind == "oom_kill"]
    assert firings["victim"] == "postgres" and firings["at"] == str(at(0))


def _quiet_end_read_back(engine: Engine, manager: IncidentManager) -> object:
    with engine.connect() as conn:
        active = repo.load_active(conn)
    return min((i.last_finding_at + manager.quiet_period(i) for i in active), default=None)


def test_a_sole_writer_reads_again_after_someone_else_claimed_an_incident(
    engine: Engine, manager: IncidentManager, topology: GraphTopology
) -> None:
    """An investigation claims the incident through its own manager (open ->
    investigating -> reported); the replay's manager forgets what it held and still
    resolves it on time."""
    manager.sole_writer = True
    [opened] = manager.process([oom(0)], at(1))
    other = IncidentManager(engine, topology, IncidentConfig())
    incident_id = opened.incident.id
    assert other.claim(incident_id, IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, at(2))
    assert other.claim(incident_id, IncidentStatus.INVESTIGATING, IncidentStatus.REPORTED, at(2))
    manager.forget_cached()
    [resolved] = manager.process([], at(31))
    assert resolved.kind is ChangeKind.RESOLVED
    assert manager.get(incident_id).status is IncidentStatus.RESOLVED


def test_a_sole_writer_settles_its_lines_only_before_a_step_that_reads_them(
    manager: IncidentManager,
) -> None:
    """A replay writes its batch of lines before a step that builds a bundle (a finding
    opens or joins an incident) and not before one that only records a repeat."""
    settled: list[datetime] = []
    manager.sole_writer = True
    manager.settle = lambda: settled.append(now)
    steps = [
        ([oom(0)], 1, True),  # opens
        ([dataclasses.replace(oom(0), at=at(5))], 5, False),  # fires again
        ([dataclasses.replace(oom(0), at=at(9))], 9, False),
        ([finding("gitea", "app-02", 10)], 11, True),  # joins
        ([], 12, False),  # nothing found, nothing due: not even a step
    ]
    for found, minute, reads in steps:
        now = at(minute)
        before = len(settled)
        manager.process(found, now)
        assert (len(settled) > before) is reads, f"at minute {minute}"


def test_a_replays_step_of_repeats_only_opens_no_connection(
    engine: Engine, manager: IncidentManager
) -> None:
    """A storm fires every minute for hours in a replay: each of those steps only records
    a repeat in memory, without a transaction or a query; a finding that joins reads
    the store again."""
    manager.sole_writer = True
    manager.settle = lambda: None
    connects: list[object] = []
    listener = connects.append
    manager.process([oom(0)], at(1))
    event.listen(engine, "engine_connect", listener)
    try:
        for minute in (5, 9, 13):
            assert manager.process([dataclasses.replace(oom(0), at=at(minute))], at(minute)) == []
        assert connects == []
        [joined] = manager.process([finding("gitea", "app-02", 14)], at(15))
        assert joined.kind is ChangeKind.UPDATED and connects
    finally:
        event.remove(engine, "engine_connect", listener)
    [oom_finding] = [f for f in manager.get(1).findings if f.kind == "oom_kill"]
    assert oom_finding.evidence[FIRINGS] == 4


def test_a_sole_writers_repeats_are_written_before_anything_reads_the_incident(
    engine: Engine, manager: IncidentManager
) -> None:
    """Repeats are kept in memory until a step that reads or claims incidents; the
    resolved row then holds the last repeat and every firing."""
    manager.sole_writer = True
    [opened] = manager.process([oom(0)], at(1))
    for minute in (5, 9):
        assert manager.process([dataclasses.replace(oom(0), at=at(minute))], at(minute)) == []
    with engine.connect() as conn:
        [stored] = repo.load_active(conn)
    assert stored.last_finding_at == at(1)  # not written yet: nothing read it
    [resolved] = manager.process([], at(9 + 360))  # a storm: 360 quiet minutes
    assert resolved.kind is ChangeKind.RESOLVED
    with engine.connect() as conn:
        row = repo.load(conn, opened.incident.id)
    assert row is not None and row.last_finding_at == at(9)
    [oom_finding] = row.findings
    assert oom_finding.evidence[FIRINGS] == 3
    assert oom_finding.evidence[LAST_FIRED_AT] == iso_z(at(9))
