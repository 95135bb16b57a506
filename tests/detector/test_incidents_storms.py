"""Storms: one primitive firing again and again on one host is one incident per episode,
while a new victim or a new kind of failure after an incident resolved pages again.

The manager tests run on SQLite, PostgreSQL and MariaDB (when their URLs are exported);
the topology is the in-memory one (the graph's agreement with it is tested elsewhere)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from incident_support import INVENTORY, at, finding
from sqlalchemy import Engine

from detector.incidents.grouping import GroupingOutcome, plan_grouping
from detector.incidents.manager import ChangeKind, IncidentManager
from detector.incidents.model import Incident, IncidentConfig, IncidentStatus, RootRef
from detector.incidents.storm import (
    DEFAULT_HOST_WIDE_KINDS,
    FIRINGS,
    LAST_FIRED_AT,
    fold_repeats,
    storm_key,
    storms,
    with_firing,
)
from detector.incidents.summary import incident_title
from detector.incidents.topology import InventoryTopology
from graph.inventory import load_inventory
from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.app.settings import Settings
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.timeutil import iso_z, parse_iso
from logvigil.ingest.formats import input_options

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"

HOURS = 60
WIDE = frozenset(DEFAULT_HOST_WIDE_KINDS)


def kill(victim: str, minute: float, host: str = "combo", kind: str = "oom_kill") -> Finding:
    """The primitive detector's finding for a kernel OOM kill line attributed to its victim,
    e.g. "Nov 15 04:30:29 combo kernel: Out of Memory: Killed process 28473 (httpd).",
    found on the tick after the minute of the line."""
    return finding(
        victim,
        host,
        minute,
        detector="primitive",
        kind=kind,
        severity=Severity.CRITICAL,
        summary=f"{victim} on {host}: OOM kill (template #7)",
    )


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> InventoryTopology:
    path = tmp_path_factory.mktemp("inv") / "inventory.yaml"
    path.write_text(INVENTORY)
    return InventoryTopology(load_inventory(Path(path)))


@pytest.fixture
def manager(engine: Engine, topology: InventoryTopology) -> IncidentManager:
    return IncidentManager(engine, topology, IncidentConfig())


def kinds(changes) -> list[ChangeKind]:
    return [c.kind for c in changes]


# -- storm keys and firings (pure) -----------------------------------------------------------


def test_a_host_wide_kind_storms_per_host_whatever_the_victim() -> None:
    assert storm_key(kill("httpd", 0), WIDE) == storm_key(kill("python", 5), WIDE)
    assert storm_key(kill("httpd", 0), WIDE) == ("combo", "oom_kill", None)
    assert storm_key(kill("httpd", 0, host="web-01"), WIDE) != storm_key(kill("httpd", 0), WIDE)


def test_a_per_service_kind_storms_per_service() -> None:
    a = kill("cron", 0, kind="unit_failed")
    b = kill("cyrus-imapd", 0, kind="unit_failed")
    assert storm_key(a, WIDE) == ("combo", "unit_failed", "cron")
    assert storm_key(a, WIDE) != storm_key(b, WIDE)


def test_a_finding_that_is_not_a_primitive_cannot_storm() -> None:
    assert storm_key(finding("httpd", "combo", 0), WIDE) is None  # an error spike
    assert storm_key(finding(None, "combo", 0, detector="silence"), WIDE) is None


def test_one_firing_or_one_burst_in_a_tick_is_not_a_storm() -> None:
    assert storms([kill("httpd", 0)], WIDE) == {}
    assert storms([kill("httpd", 0), kill("python", 0)], WIDE) == {}  # same tick


def test_a_firing_on_a_later_tick_makes_a_storm() -> None:
    assert storms([kill("httpd", 0), kill("python", 12)], WIDE) == {
        ("combo", "oom_kill", None): at(13)
    }
    refired = with_firing(kill("httpd", 0), at(21))
    assert refired.evidence[FIRINGS] == 2
    assert refired.evidence[LAST_FIRED_AT] == iso_z(at(21))
    assert storms([refired], WIDE) == {("combo", "oom_kill", None): at(21)}


def test_only_primitives_are_folded_as_firings() -> None:
    spike = finding("httpd", "combo", 0)
    folded, changed = fold_repeats(
        [kill("httpd", 0), spike], [kill("httpd", 30), dataclasses.replace(spike, at=at(31))]
    )
    assert changed == {kill("httpd", 0).key}
    assert folded[0].evidence[FIRINGS] == 2 and folded[1] == spike


def test_storm_quiet_must_not_be_shorter_than_the_ordinary_quiet_period() -> None:
    with pytest.raises(ValueError, match="storm_quiet_minutes must be at least"):
        IncidentConfig(storm_quiet_minutes=20)
    assert IncidentConfig().storm_quiet_minutes == 6 * HOURS


def test_other_victims_of_the_same_storm_are_not_called_affected() -> None:
    fs = [
        kill("postgres", 0, host="db-01"),
        kill("redis", 1, host="db-01"),
        finding("nextcloud", "web-01", 2),
    ]
    root = RootRef("postgres", "db-01")
    assert (
        incident_title(fs, root, WIDE)
        == "postgres OOM-killed on db-01 (also redis) -> nextcloud affected"
    )
    # A per-service kind has no co-victims: another unit failing is a finding of its own.
    units = [kill("cron", 0, kind="unit_failed"), kill("cups", 1, kind="unit_failed")]
    assert incident_title(units, RootRef("cron", "combo"), WIDE) == (
        "cron unit failed on combo -> cups affected"
    )


# -- grouping (pure) -------------------------------------------------------------------------


def _incident(findings: list[Finding]) -> Incident:
    return Incident(
        id=1,
        status=IncidentStatus.OPEN,
        severity=Severity.CRITICAL,
        title="t",
        opened_at=at(0),
        updated_at=at(0),
        last_finding_at=max(f.at for f in findings),
        resolved_at=None,
        services=tuple(sorted({f.service for f in findings if f.service})),
        hosts=("combo",),
        findings=tuple(findings),
    )


def _plan(active, findings, topology, now):
    return plan_grouping(
        active,
        {},
        findings,
        topology,
        now,
        window=timedelta(minutes=30),
        depth=3,
        storm_host_kinds=WIDE,
    )


def test_a_new_victim_joins_the_active_storm_after_a_long_pause(topology) -> None:
    inc = _incident([kill("httpd", 0)])
    p = _plan([inc], [kill("python", 2 * HOURS)], topology, at(2 * HOURS + 1))
    assert p.outcomes() == [GroupingOutcome.JOINED]
    assert p.decisions[0].incident_id == 1


def test_after_a_long_pause_only_the_storm_joins_not_another_kind(topology) -> None:
    inc = _incident([kill("httpd", 0)])
    disk = kill("postfix", 2 * HOURS, kind="disk_full")
    p = _plan([inc], [disk], topology, at(2 * HOURS + 1))
    assert p.outcomes() == [GroupingOutcome.OPENED]


def test_an_oom_kill_on_another_host_does_not_join_the_storm(topology) -> None:
    inc = _incident([kill("httpd", 0)])
    p = _plan([inc], [kill("httpd", 2 * HOURS, host="web-01")], topology, at(2 * HOURS + 1))
    assert p.outcomes() == [GroupingOutcome.OPENED]


def test_another_unit_failing_after_a_long_pause_is_a_new_incident(topology) -> None:
    inc = _incident([kill("cron", 0, kind="unit_failed")])
    p = _plan([inc], [kill("cups", 2 * HOURS, kind="unit_failed")], topology, at(2 * HOURS + 1))
    assert p.outcomes() == [GroupingOutcome.OPENED]


# -- the manager, on every backend -----------------------------------------------------------


def test_a_storm_over_hours_with_changing_victims_is_one_incident(
    manager: IncidentManager,
) -> None:
    """Kills every 10 minutes with pauses of up to two hours and new victims: one
    incident, opened once and then only updated, still open 5 h after the last kill."""
    victims = ["httpd", "httpd", "python", "httpd", "sendmail", "httpd", "mrtg", "mysqld"]
    minutes = [0, 10, 20, 110, 120, 240, 250, 360]  # pauses of 90 and 120 minutes
    changes = []
    for victim, minute in zip(victims, minutes, strict=True):
        changes += manager.process([], at(minute))  # the ticks in between
        changes += manager.process([kill(victim, minute)], at(minute + 1))
    assert kinds(changes).count(ChangeKind.OPENED) == 1
    assert ChangeKind.RESOLVED not in kinds(changes)
    assert manager.process([], at(361 + 5 * HOURS)) == []
    [inc] = manager.list()
    assert inc.status is IncidentStatus.OPEN
    assert inc.services == ("httpd", "mrtg", "mysqld", "python", "sendmail")
    assert inc.title == "httpd OOM-killed on combo (also python, sendmail, mrtg and 1 more)"
    [httpd] = [f for f in inc.findings if f.service == "httpd"]
    assert httpd.evidence[FIRINGS] == 4  # its repeats are recorded, not added
    assert httpd.evidence[LAST_FIRED_AT] == iso_z(at(241))


def test_a_new_episode_after_six_quiet_hours_is_a_second_incident(
    manager: IncidentManager,
) -> None:
    manager.process([kill("httpd", 0)], at(1))
    manager.process([kill("httpd", 10)], at(11))  # a storm: fired on a second tick
    assert manager.process([], at(11 + 6 * HOURS - 1)) == []  # quiet 5 h 59 min
    [resolved] = manager.process([], at(11 + 6 * HOURS))
    assert resolved.kind is ChangeKind.RESOLVED
    # The same victim right after: a new episode, not a recurrence within a cooldown.
    changes = manager.process([kill("httpd", 6 * HOURS + 15)], at(6 * HOURS + 16))
    assert kinds(changes) == [ChangeKind.OPENED]
    assert len(manager.list()) == 2


def test_a_different_victim_84_minutes_after_a_single_kill_opens_a_new_incident(
    manager: IncidentManager,
) -> None:
    [first] = manager.process([kill("java", 0)], at(1))
    [resolved] = manager.process([], at(31))  # one kill is not a storm: the ordinary 30 min
    assert resolved.kind is ChangeKind.RESOLVED
    changes = manager.process([kill("mysqld", 84)], at(85))
    assert kinds(changes) == [ChangeKind.OPENED]
    opened = changes[0].incident
    assert opened.id != first.incident.id and opened.services == ("mysqld",)
    old = manager.get(first.incident.id)
    assert old is not None and [f.service for f in old.findings] == ["java"]


def test_a_kill_that_began_before_the_quiet_period_ended_keeps_the_incident(
    manager: IncidentManager,
) -> None:
    """loghub_Linux_full.log, Nov 19: kills at 09:00:16-09:00:30, then 09:30:35. The
    second is found on the tick that ends the 30 quiet minutes, but it began before."""
    [first] = manager.process([kill("httpd", 0)], at(1))
    assert first.kind is ChangeKind.OPENED
    assert manager.process([kill("httpd", 30)], at(31)) == []  # a repeat, no change
    [inc] = manager.list()
    assert inc.status is IncidentStatus.OPEN and inc.last_finding_at == at(31)
    assert storms(inc.findings, WIDE)  # fired on two ticks: a storm now


def test_a_kill_that_began_after_the_quiet_period_does_not_revive_the_incident(
    manager: IncidentManager,
) -> None:
    [first] = manager.process([kill("httpd", 0)], at(1))
    assert first.kind is ChangeKind.OPENED
    changes = manager.process([kill("httpd", 31)], at(32))
    assert kinds(changes) == [ChangeKind.RESOLVED]
    assert manager.last_plan is not None
    assert manager.last_plan.outcomes() == [GroupingOutcome.SUPPRESSED_COOLDOWN]


def test_the_same_victim_84_minutes_after_a_single_kill_is_still_in_cooldown(
    manager: IncidentManager,
) -> None:
    manager.process([kill("java", 0)], at(1))
    manager.process([], at(31))
    assert manager.process([kill("java", 84)], at(85)) == []
    assert manager.last_plan is not None
    assert manager.last_plan.outcomes() == [GroupingOutcome.SUPPRESSED_COOLDOWN]


def test_a_new_kind_of_failure_after_a_resolved_storm_opens_a_new_incident(
    manager: IncidentManager,
) -> None:
    manager.process([kill("httpd", 0)], at(1))
    manager.process([kill("httpd", 10)], at(11))
    manager.process([], at(11 + 6 * HOURS))  # resolved
    changes = manager.process([kill("httpd", 6 * HOURS + 40, kind="segfault")], at(6 * HOURS + 41))
    assert kinds(changes) == [ChangeKind.OPENED]


def test_storms_on_different_hosts_stay_separate(manager: IncidentManager) -> None:
    for minute in (0, 10, 20):
        manager.process(
            [kill("httpd", minute), kill("httpd", minute, host="mail-01")], at(minute + 1)
        )
    incidents = manager.list()
    assert sorted(i.hosts for i in incidents) == [("combo",), ("mail-01",)]


def test_the_storm_quiet_period_is_configurable(engine: Engine, topology) -> None:
    manager = IncidentManager(engine, topology, IncidentConfig(storm_quiet_minutes=2 * HOURS))
    manager.process([kill("httpd", 0)], at(1))
    manager.process([kill("httpd", 10)], at(11))
    assert manager.process([], at(10 + 2 * HOURS)) == []
    assert kinds(manager.process([], at(11 + 2 * HOURS))) == [ChangeKind.RESOLVED]


# -- real lines ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_real_oom_storm_pages_once_per_episode() -> None:
    """The Red Hat server "combo" of loghub_Linux_full.log, Nov 15 04:30 to Nov 16 05:02
    (US Eastern): 122 real "Out of Memory: Killed process N (httpd)." lines in three
    episodes (labels oom-1115-0430, oom-1115-1225, oom-1116-0030), with pauses of up to
    4 h 18 min inside an episode and 6 h 02 min between the last two. Replayed through
    the daemon's code: one incident per episode, none per pause."""
    log = REAL / "loghub_Linux_full.log"
    if not log.exists():
        pytest.skip(f"{log} is not there")
    kills = [
        line
        for line in log.read_bytes().splitlines(keepends=True)
        if b"kernel: Out of Memory: Killed process" in line
        and (line.startswith(b"Nov 15 ") or line.startswith(b"Nov 16 0"))
    ]
    assert len(kills) == 122
    assert kills[0].startswith(b"Nov 15 04:30:29 combo kernel: Out of Memory: Killed process")
    options = input_options(
        str(log),
        naive_tz=ZoneInfo("America/New_York"),
        default_time=datetime(2006, 3, 1, tzinfo=UTC),
    )
    result = run_backtest(
        iter(kills),
        fmt="syslog",
        settings=Settings(),
        inventory=empty_inventory(),
        read_options=options,
    )
    episodes = [  # the labels' starts, in UTC (EST is UTC-5)
        datetime(2005, 11, 15, 9, 30, 29, tzinfo=UTC),
        datetime(2005, 11, 15, 17, 25, 24, tzinfo=UTC),
        datetime(2005, 11, 16, 5, 30, 31, tzinfo=UTC),
    ]
    opened = [parse_iso(i["opened_at"]) for i in result.incidents]
    assert len(opened) == len(episodes), [(i["opened_at"], i["services"]) for i in result.incidents]
    for start, at_ in zip(episodes, opened, strict=True):
        assert start <= at_ <= start + timedelta(minutes=10)
    for incident in result.incidents:
        assert incident["hosts"] == ["combo"]
        assert {t["detector"] for t in incident["triggers"]} == {"primitive"}


def test_the_quiet_period_follows_the_incidents_findings(manager: IncidentManager) -> None:
    # Asked at every step, the period is remembered per incident: it must change with the
    # findings (a second firing makes a storm), never stay as first answered.
    manager.process([kill("httpd", 0)], at(1))
    (first,) = manager.list()
    ordinary = manager.quiet_period(first)
    assert ordinary == timedelta(minutes=manager.config.resolve_after_quiet_minutes)
    manager.process([kill("httpd", 10)], at(11))
    (stormed,) = manager.list()
    assert stormed.id == first.id
    assert manager.quiet_period(stormed) == timedelta(minutes=manager.config.storm_quiet_minutes)
    assert manager.quiet_period(first) == ordinary  # the older findings: the older answer
