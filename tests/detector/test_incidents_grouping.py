"""Pure decisions: grouping of findings, the suspected root, redaction (no database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from incident_support import INVENTORY, at, finding

from detector.incidents.grouping import GroupingOutcome, plan_grouping
from detector.incidents.model import Incident, IncidentStatus, RootRef
from detector.incidents.root import rank_roots
from detector.incidents.storm import DEFAULT_HOST_WIDE_KINDS
from detector.incidents.summary import incident_severity, incident_title
from detector.incidents.topology import InventoryTopology
from graph.inventory import load_inventory
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.redact import clean_line

WINDOW = timedelta(minutes=30)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> InventoryTopology:
    path = tmp_path_factory.mktemp("inv") / "inventory.yaml"
    path.write_text(INVENTORY)
    return InventoryTopology(load_inventory(Path(path)))


def incident(incident_id: int, findings: list[Finding], opened: float) -> Incident:
    return Incident(
        id=incident_id,
        status=IncidentStatus.OPEN,
        severity=Severity.ERROR,
        title="t",
        opened_at=at(opened),
        updated_at=at(opened),
        last_finding_at=max(f.at for f in findings),
        resolved_at=None,
        services=tuple(sorted({f.service for f in findings if f.service})),
        hosts=tuple(sorted({f.host for f in findings if f.host})),
        findings=tuple(findings),
    )


def plan(active, findings, topology, *, cooldowns=None, now=None):
    return plan_grouping(
        active,
        cooldowns or {},
        findings,
        topology,
        now or at(5),
        window=WINDOW,
        depth=3,
    )


# -- grouping --------------------------------------------------------------------------------


def test_a_cascade_in_one_tick_opens_one_incident(topology) -> None:
    p = plan(
        [],
        [
            finding("nginx", "web-01", 2),
            finding("postgres", "db-01", 0, kind="oom_kill", detector="primitives"),
            finding("gitea", "app-02", 2),
        ],
        topology,
    )
    assert len(p.new_groups) == 1
    assert [f.service for f in p.new_groups[0]] == ["postgres", "gitea", "nginx"]
    assert set(p.outcomes()) == {GroupingOutcome.OPENED}


def test_unrelated_services_on_different_hosts_open_two_incidents(topology) -> None:
    p = plan([], [finding("postfix", "mail-01", 0), finding("nginx", "web-01", 0)], topology)
    assert len(p.new_groups) == 2


def test_services_without_edges_on_the_same_host_group_together(topology) -> None:
    p = plan([], [finding("postfix", "mail-01", 0), finding("dovecot", "mail-01", 1)], topology)
    assert len(p.new_groups) == 1


def test_a_service_unknown_to_the_inventory_groups_only_through_its_host(topology) -> None:
    p = plan(
        [],
        [
            finding("cron", "db-01", 0),
            finding("postgres", "db-01", 0),
            finding("cron", "mail-01", 0, detector="new_template"),
        ],
        topology,
    )
    assert sorted(len(g) for g in p.new_groups) == [1, 2]


def test_a_finding_joins_an_open_incident_it_is_connected_to(topology) -> None:
    open_ = incident(1, [finding("postgres", "db-01", 0)], opened=1)
    p = plan([open_], [finding("gitea", "app-02", 3)], topology)
    assert p.decisions[0].outcome is GroupingOutcome.JOINED
    assert p.decisions[0].incident_id == 1
    assert p.joins == {1: (p.decisions[0].finding,)}


def reboot(host: str, minute: float) -> Finding:
    return finding(None, host, minute, detector="unclean_reboot", kind="unclean_reboot")


def test_a_unit_failing_at_the_boot_after_a_crash_is_a_page_of_its_own(topology) -> None:
    # plemma_syslog.log, May 22: the kernel banner at 22:53:41 without a shutdown before
    # it, then "cyrus-imapd.service: Failed with result 'exit-code'." a second later.
    unit = finding("cyrus-imapd", "mail-01", 0, detector="primitives", kind="unit_failed")
    p = plan([], [reboot("mail-01", 0), unit], topology)
    assert sorted(len(g) for g in p.new_groups) == [1, 1]
    # ... and whichever comes first, the other does not join its incident.
    for first, then in ((unit, reboot("mail-01", 1)), (reboot("mail-01", 0), unit)):
        p = plan([incident(1, [first], opened=1)], [then], topology)
        assert p.decisions[0].outcome is GroupingOutcome.OPENED


def test_a_crash_goes_with_what_happened_to_the_whole_machine(topology) -> None:
    silent = finding(None, "mail-01", 0, detector="silence", kind="silent_host")
    panic = finding("kernel", "mail-01", 0, detector="primitives", kind="kernel_panic")
    oom = finding("postfix", "mail-01", 0, detector="primitives", kind="oom_kill")
    for before in (silent, panic, oom):
        p = plan_grouping(
            [incident(1, [before], opened=1)],
            {},
            [reboot("mail-01", 3)],
            topology,
            at(5),
            window=WINDOW,
            depth=3,
            storm_host_kinds=("oom_kill",),
        )
        assert p.decisions[0].outcome is GroupingOutcome.JOINED, before.kind


def test_a_service_joins_only_through_the_findings_it_may_go_with(topology) -> None:
    # postfix on mail-01 shares the host only with the reboot: a new incident.
    crash = incident(1, [reboot("mail-01", 0), finding("postgres", "db-01", 0)], opened=1)
    p = plan([crash], [finding("postfix", "mail-01", 2)], topology)
    assert p.decisions[0].outcome is GroupingOutcome.OPENED
    # gitea is connected to postgres, which is in the incident: it joins.
    p = plan([crash], [finding("gitea", "app-02", 2)], topology)
    assert p.decisions[0].outcome is GroupingOutcome.JOINED


def wide_plan(active, findings, topology):
    return plan_grouping(
        active, {}, findings, topology, at(5), window=WINDOW, depth=3,
        storm_host_kinds=DEFAULT_HOST_WIDE_KINDS,
    )  # fmt: skip


def test_a_disk_filling_on_another_host_is_not_caused_by_an_oom_kill(topology) -> None:
    # gitea (app-02) depends on postgres (db-01): the graph connects them, yet a full
    # disk on app-02 90 s after postgres was OOM-killed is a trouble of its own.
    oom = finding("postgres", "db-01", 0, detector="primitives", kind="oom_kill")
    disk = finding("gitea", "app-02", 1.5, detector="primitives", kind="disk_full")
    assert topology.connected("gitea", "postgres", 3)
    p = wide_plan([incident(1, [oom], opened=1)], [disk], topology)
    assert p.decisions[0].outcome is GroupingOutcome.OPENED
    p = wide_plan([], [oom, disk], topology)
    assert len(p.new_groups) == 2
    # The symptoms of postgres's dependants still gather around it ...
    p = wide_plan([incident(1, [oom], opened=1)], [finding("gitea", "app-02", 2)], topology)
    assert p.decisions[0].outcome is GroupingOutcome.JOINED
    # ... and two troubles of one host are one problem.
    same = finding("postgres", "db-01", 2, detector="primitives", kind="disk_full")
    p = wide_plan([incident(1, [oom], opened=1)], [same], topology)
    assert p.decisions[0].outcome is GroupingOutcome.JOINED


def test_connectivity_stops_at_the_configured_depth(topology) -> None:
    # nginx -> nextcloud -> postgres is two hops
    open_ = incident(1, [finding("postgres", "db-01", 0)], opened=1)
    shallow = plan_grouping(
        [open_], {}, [finding("nginx", "web-01", 2)], topology, at(3), window=WINDOW, depth=1
    )
    deep = plan_grouping(
        [open_], {}, [finding("nginx", "web-01", 2)], topology, at(3), window=WINDOW, depth=2
    )
    assert shallow.decisions[0].outcome is GroupingOutcome.OPENED
    assert deep.decisions[0].outcome is GroupingOutcome.JOINED


def test_a_finding_after_the_grouping_window_opens_a_new_incident(topology) -> None:
    open_ = incident(1, [finding("postgres", "db-01", 0)], opened=1)
    late = plan([open_], [finding("gitea", "app-02", 32)], topology, now=at(33))
    in_time = plan([open_], [finding("gitea", "app-02", 30)], topology, now=at(31))
    assert late.decisions[0].outcome is GroupingOutcome.OPENED
    assert in_time.decisions[0].outcome is GroupingOutcome.JOINED


def test_a_finding_that_connects_two_incidents_joins_the_older(topology) -> None:
    older = incident(1, [finding("postgres", "db-01", 0)], opened=1)
    newer = incident(2, [finding("nginx", "web-01", 1)], opened=2)
    p = plan([newer, older], [finding("nextcloud", "web-01", 3)], topology)
    assert p.decisions[0].incident_id == 1
    assert p.touched == {1}


def test_a_new_finding_linked_only_to_a_joining_one_follows_it(topology) -> None:
    # nginx is two hops from postgres; with depth 1 it reaches the incident only via nextcloud
    open_ = incident(1, [finding("postgres", "db-01", 0)], opened=1)
    p = plan_grouping(
        [open_],
        {},
        [finding("nextcloud", "web-01", 2), finding("nginx", "web-01", 2)],
        topology,
        at(3),
        window=WINDOW,
        depth=1,
    )
    assert [d.incident_id for d in p.decisions] == [1, 1]


def test_a_repeated_key_only_refreshes_its_incident(topology) -> None:
    first = finding("postgres", "db-01", 0)
    open_ = incident(1, [first], opened=1)
    again = finding("postgres", "db-01", 0, found=5)
    p = plan([open_], [again], topology)
    assert p.decisions[0].outcome is GroupingOutcome.REPEATED
    assert p.joins == {}
    assert p.touched == {1}
    assert p.latest_at(1) == at(5)


def test_a_finding_in_cooldown_does_not_open_an_incident(topology) -> None:
    f = finding("postgres", "db-01", 60, kind="oom_kill", detector="primitives")
    cooldowns = {f.key: at(90)}
    suppressed = plan([], [f], topology, cooldowns=cooldowns, now=at(61))
    boundary = plan([], [f], topology, cooldowns=cooldowns, now=at(90))
    allowed = plan([], [f], topology, cooldowns=cooldowns, now=at(91))
    assert suppressed.decisions[0].outcome is GroupingOutcome.SUPPRESSED_COOLDOWN
    # inclusive: an hourly job failing again on the same minute is still cooling down
    assert boundary.decisions[0].outcome is GroupingOutcome.SUPPRESSED_COOLDOWN
    assert suppressed.decisions[0].cooldown_until == at(90)
    assert suppressed.new_groups == ()
    assert allowed.decisions[0].outcome is GroupingOutcome.OPENED


def test_a_finding_in_cooldown_still_joins_a_fresh_trigger(topology) -> None:
    cooled = finding("postgres", "db-01", 60)
    fresh = finding("nextcloud", "web-01", 61)
    p = plan([], [cooled, fresh], topology, cooldowns={cooled.key: at(90)}, now=at(62))
    assert p.outcomes() == [GroupingOutcome.OPENED, GroupingOutcome.OPENED]
    assert len(p.new_groups) == 1


def test_decisions_do_not_depend_on_the_order_of_findings(topology) -> None:
    fs = [
        finding("postgres", "db-01", 0),
        finding("nginx", "web-01", 2),
        finding("postfix", "mail-01", 1),
        finding("dovecot", "mail-01", 1),
    ]
    a = plan([], fs, topology)
    b = plan([], list(reversed(fs)), topology)
    assert a == b


# -- the suspected root ----------------------------------------------------------------------


def test_without_other_clues_the_earliest_anomaly_is_the_root(topology) -> None:
    ranking = rank_roots(
        [finding("dovecot", "mail-01", 3), finding("postfix", "mail-01", 0)], topology
    )
    assert ranking.root == RootRef("postfix", "mail-01")
    assert ranking.candidates[0].breakdown["earliest"] == 20.0


def test_a_dependency_beats_a_dependant_that_complained_a_minute_earlier(topology) -> None:
    ranking = rank_roots(
        [
            finding("nextcloud", "web-01", 0),
            finding("postgres", "db-01", 1),
            finding("nginx", "web-01", 2),
        ],
        topology,
    )
    assert ranking.root == RootRef("postgres", "db-01")
    top = ranking.candidates[0]
    assert top.dependants == ("nextcloud", "nginx")
    assert ranking.blast_radius == ("gitea", "nextcloud", "nginx")


def test_a_primitive_beats_an_earlier_plain_error(topology) -> None:
    ranking = rank_roots(
        [
            finding("postgres", "db-01", 0),
            finding("redis", "db-01", 3, kind="oom_kill", detector="primitives"),
        ],
        topology,
    )
    assert ranking.root == RootRef("redis", "db-01")
    assert ranking.candidates[0].primitive == "oom_kill"


def test_a_silent_host_is_the_root_of_what_runs_on_it(topology) -> None:
    ranking = rank_roots(
        [
            finding("nextcloud", "web-01", 0),
            finding("postgres", "db-01", 1, kind="oom_kill", detector="primitives"),
            finding(None, "db-01", 2, detector="silence"),
        ],
        topology,
    )
    assert ranking.root == RootRef(None, "db-01")
    assert ranking.candidates[0].host_level
    assert ranking.blast_radius[:2] == ("postgres", "redis")
    assert "nginx" in ranking.blast_radius


def test_ties_are_broken_deterministically_by_name(topology) -> None:
    fs = [finding("postfix", "mail-01", 0), finding("dovecot", "mail-01", 0)]
    assert rank_roots(fs, topology).root == rank_roots(fs[::-1], topology).root
    assert rank_roots(fs, topology).root == RootRef("dovecot", "mail-01")


def test_the_ranking_explains_every_score(topology) -> None:
    ranking = rank_roots([finding("postgres", "db-01", 0), finding("gitea", "app-02", 1)], topology)
    for c in ranking.candidates:
        assert c.score == pytest.approx(sum(c.breakdown.values()))
    assert ranking.to_json()["candidates"][0]["subject"] == "postgres"


# -- title and severity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "title"),
    [
        (reboot("mail-01", 0), "host mail-01 rebooted without shutting down"),
        (
            finding("kernel", "mail-01", 0, kind="cpu_lockup", detector="primitives"),
            "kernel CPU lockup on mail-01",
        ),
        (
            finding("kernel", "mail-01", 0, kind="nic_hang", detector="primitives"),
            "kernel network adapter hang on mail-01",
        ),
    ],
)
def test_the_crash_family_reads_as_words(found: Finding, title: str) -> None:
    root = RootRef(found.service, found.host)
    assert incident_title([found], root) == title


def test_the_title_names_the_root_its_cause_and_what_it_affected(topology) -> None:
    fs = [
        finding("postgres", "db-01", 0, kind="oom_kill", detector="primitives"),
        finding("nextcloud", "web-01", 2),
        finding("nginx", "web-01", 2.5),
    ]
    assert (
        incident_title(fs, RootRef("postgres", "db-01"))
        == "postgres OOM-killed on db-01 -> nextcloud, nginx affected"
    )


def test_a_supervisor_that_wrote_a_units_failure_is_never_affected(topology) -> None:
    fs = [
        finding("cyrus-imapd", "mail-01", 0, detector="primitives", kind="unit_failed"),
        finding("systemd", "mail-01", 0.5, detector="new_template"),
    ]
    title = incident_title(fs, RootRef("cyrus-imapd", "mail-01"))
    assert title == "cyrus-imapd unit failed on mail-01"


def test_a_cascade_over_three_subjects_is_critical(topology) -> None:
    fs = [finding(s, h, 0) for s, h in [("postgres", "db-01"), ("gitea", "app-02")]]
    assert incident_severity(fs, 3) is Severity.ERROR
    fs.append(finding("nginx", "web-01", 1, severity=Severity.WARNING))
    assert incident_severity(fs, 3) is Severity.CRITICAL


# -- redaction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("FATAL: auth failed user=app password=hunter2 db=app", "hunter2"),
        ('login {"user": "bob", "token": "abc123xyz"}', "abc123xyz"),
        ("GET /api Authorization: Bearer eyJhbGciOi.secretpart.sig", "secretpart"),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNz'", "dXNlcjpwYXNz"),
        ("connecting to postgres://app:s3cr3t@db-01/app", "s3cr3t"),
        ("PGPASSWORD='x y z' psql -h db-01", "x y z"),
        ("api_key: AKIA1234567890; retrying", "AKIA1234567890"),
    ],
)
def test_secrets_are_redacted_from_sample_lines(line: str, secret: str) -> None:
    cleaned = clean_line(line, 300)
    assert secret not in cleaned
    assert "<redacted>" in cleaned


def test_sample_lines_are_printable_and_cut() -> None:
    cleaned = clean_line("a\x1b[31mred\x1b[0m\tb\x00c" + "x" * 500, 100)
    assert cleaned.startswith("ared b")
    assert "\x00" not in cleaned and "\x1b" not in cleaned
    assert len(cleaned) == 100 and cleaned.endswith("…")


def test_a_secret_cut_by_truncation_is_still_redacted() -> None:
    line = "x" * 90 + " password=hunter2hunter2"
    assert "hunter" not in clean_line(line, 100)
