"""Attribution: which declared service a LogEvent belongs to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.attribution import attribute, oom_victim
from graph.inventory import Inventory, load_inventory
from logvigil.core.events import LogEvent, Severity

TS = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def event(host: str, service: str, message: str = "hello", **attributes: str) -> LogEvent:
    return LogEvent(TS, host, service, Severity.INFO, message, attributes=attributes)


def test_a_systemd_unit_names_its_service(homelab: Inventory) -> None:
    e = event("db-01", "postgres", _SYSTEMD_UNIT="postgresql@15-main.service")
    assert attribute(e, homelab) == "postgres"


def test_a_syslog_identifier_names_its_service(homelab: Inventory) -> None:
    assert attribute(event("db-01", "redis-server"), homelab) == "redis"
    e = event("db-01", "whatever", SYSLOG_IDENTIFIER="postgresql")
    assert attribute(e, homelab) == "postgres"


def test_a_container_name_wins_over_the_identifier(homelab: Inventory) -> None:
    e = event("web-01", "3f2a9c1b", CONTAINER_NAME="gitea", SYSLOG_IDENTIFIER="3f2a9c1b")
    assert attribute(e, homelab) == "gitea"


def test_identifier_globs_match(homelab: Inventory) -> None:
    assert attribute(event("web-01", "php-fpm8.2"), homelab) == "nextcloud"


def test_only_services_on_the_events_host_are_considered(homelab: Inventory) -> None:
    # postgres runs on db-01 only: a "postgres" line from web-01 is not that service.
    assert attribute(event("web-01", "postgres"), homelab) == "postgres"
    assert attribute(event("web-01", "redis-server"), homelab) == "redis-server"
    assert attribute(event("db-01", "redis-server"), homelab) == "redis"


def test_a_fully_qualified_hostname_matches_the_short_declared_one(homelab: Inventory) -> None:
    assert attribute(event("db-01.lan", "redis-server"), homelab) == "redis"


def test_an_undeclared_host_is_matched_against_every_service(homelab: Inventory) -> None:
    assert attribute(event("laptop", "redis-server"), homelab) == "redis"


def test_an_event_that_matches_nothing_keeps_its_identifier(homelab: Inventory) -> None:
    assert attribute(event("db-01", "cron"), homelab) == "cron"


def test_a_service_without_match_rules_matches_its_name_and_unit(homelab: Inventory) -> None:
    assert attribute(event("nas-01", "sshd"), homelab) == "sshd"
    assert attribute(event("nas-01", "x", _SYSTEMD_UNIT="sshd.service"), homelab) == "sshd"


def test_a_systemd_message_about_a_unit_goes_to_that_units_service(homelab: Inventory) -> None:
    e = event(
        "db-01",
        "systemd",
        "postgresql@15-main.service: Main process exited, code=killed, status=9/KILL",
        _SYSTEMD_UNIT="init.scope",
        UNIT="postgresql@15-main.service",
    )
    assert attribute(e, homelab) == "postgres"


def test_an_oom_killer_line_belongs_to_its_victims_service(homelab: Inventory) -> None:
    e = event(
        "db-01",
        "kernel",
        "Out of memory: Killed process 2811 (postgres) total-vm:8388608kB, anon-rss:6291456kB",
        _TRANSPORT="kernel",
    )
    assert oom_victim(e) is not None and oom_victim(e).pid == 2811
    assert attribute(e, homelab) == "postgres"


def test_an_oom_kill_summary_uses_the_victims_cgroup_unit(homelab: Inventory) -> None:
    e = event(
        "db-01",
        "kernel",
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
        "global_oom,task_memcg=/system.slice/postgresql@15-main.service,task=postmaster,"
        "pid=2811,uid=113",
    )
    assert attribute(e, homelab) == "postgres"


def test_an_oom_victim_is_looked_up_on_the_events_host(homelab: Inventory) -> None:
    line = "Memory cgroup out of memory: Killed process 977 (redis-server) total-vm:1024kB"
    assert attribute(event("db-01", "kernel", line), homelab) == "redis"
    # no redis on web-01: the victim keeps its process name
    assert attribute(event("web-01", "kernel", line), homelab) == "redis-server"


def test_an_oom_victim_name_cut_to_fifteen_characters_still_matches(write_inventory) -> None:
    inv = load_inventory(
        write_inventory(
            "hosts: {h: {}}\nservices:\n  search:\n    hosts: [h]\n"
            "    match: {identifiers: [elasticsearch-server]}\n"
        )
    )
    line = "Out of memory: Killed process 4242 (elasticsearch-s) total-vm:1kB"
    assert attribute(event("h", "kernel", line), inv) == "search"


def test_other_kernel_lines_stay_with_the_kernel(homelab: Inventory) -> None:
    e = event("db-01", "kernel", "EXT4-fs (sda1): mounted filesystem")
    assert attribute(e, homelab) == "kernel"
    # the process that *invoked* the OOM killer is not its victim
    e = event("db-01", "kernel", "postgres invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER)")
    assert attribute(e, homelab) == "kernel"


def test_a_kernel_line_after_others_of_its_host_still_names_its_oom_victim(
    homelab: Inventory,
) -> None:
    """Kernel lines are memoised on their fields like any line, but only once they name
    no victim: the same fields with a victim in the message go to the victim's service."""
    plain = event("db-01", "kernel", "EXT4-fs (sda1): mounted filesystem")
    killed = event("db-01", "kernel", "Out of memory: Killed process 2811 (postgres) a:1kB")
    for _ in range(2):
        assert attribute(plain, homelab) == "kernel"
        assert attribute(killed, homelab) == "postgres"


@pytest.mark.parametrize("service", ["postgres", "nginx"])
def test_killed_process_text_from_a_non_kernel_source_is_not_an_oom_line(
    homelab: Inventory, service: str
) -> None:
    e = event("web-01", "nginx", f"user said: Killed process 1 ({service})")
    assert oom_victim(e) is None
    assert attribute(e, homelab) == "nginx"


def test_the_first_declared_service_wins_when_two_match(write_inventory) -> None:
    inv = load_inventory(
        write_inventory(
            "hosts: {h: {}}\nservices:\n"
            "  a: {hosts: [h], match: {identifiers: [python3]}}\n"
            "  b: {hosts: [h], match: {identifiers: [python3]}}\n"
        )
    )
    assert attribute(event("h", "python3"), inv) == "a"


def test_lines_of_one_host_and_program_are_told_apart_by_the_fields_the_rules_read(
    homelab: Inventory,
) -> None:
    # Memoised per (host, program) alone when a line holds none of the fields the rules
    # read (a syslog line's pid), and per those fields too when it holds one: neither
    # answer may stand in for the other, in either order.
    plain = event("db-01", "whatever", pid="123")
    named = event("db-01", "whatever", pid="123", SYSLOG_IDENTIFIER="postgresql")
    assert [attribute(e, homelab) for e in (plain, named, plain, named)] == [
        "whatever", "postgres", "whatever", "postgres",
    ]  # fmt: skip
    unit = event("db-01", "whatever", _SYSTEMD_UNIT="redis-server.service")
    assert [attribute(e, homelab) for e in (unit, plain, unit)] == ["redis", "whatever", "redis"]
