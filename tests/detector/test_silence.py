"""silence: learnt rhythms page on a source that really stopped, and on nothing else.

Each test builds days of per-minute rows by hand, with an explicit clock (minute 0 is
Monday 2026-03-02 00:00 UTC), and runs the detector window after window with its state
stored as JSON in between, as the tick does.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from test_silence_support import (
    DAY,
    HOUR,
    T0,
    TEMPLATES,
    Run,
    at,
    both,
    detector,
    every,
    hour_of,
    row,
)

from detector.detectors.base import ServiceInfo, Window
from detector.detectors.silence import SilenceConfig, SilenceDetector
from detector.detectors.silence_findings import host_finding
from logvigil.core.events import Severity
from logvigil.store.source_health import SourceHealthRecord

# -- a steady service --------------------------------------------------------


def test_a_service_that_logs_every_minute_and_stops_pages_once_after_twenty_minutes() -> None:
    r = Run()
    web = every(1, "kernel")  # db-01 itself keeps logging
    assert r.learn(0, 2 * DAY, both(every(1, "postgres"), web)) == []
    found = r.watch(2 * DAY, 2 * DAY + 3 * HOUR, web)
    assert len(found) == 1
    f = found[0]
    assert (f.detector, f.kind, f.service, f.host, f.severity) == (
        "silence",
        "silent_service",
        "postgres",
        "db-01",
        Severity.WARNING,
    )
    # Last line at 23:59; minutes 00:00..00:19 silent: due at the end of 00:19.
    assert f.started_at == at(2 * DAY) and f.at == at(2 * DAY + 20)
    assert f.evidence["silent_minutes"] == 20
    assert f.evidence["judged_over"] == "hour"
    assert f.summary == (
        "postgres on db-01 silent for 20 min "
        "(last line 23:59; it logged in every minute around this hour)"
    )


def test_a_steady_service_back_then_silent_again_pages_again() -> None:
    r = Run()
    web = every(1, "kernel")  # db-01 itself keeps logging
    r.learn(0, 2 * DAY, both(every(1, "postgres"), web))
    r.watch(2 * DAY, 2 * DAY + HOUR, web)
    r.learn(2 * DAY + HOUR, 3 * DAY, both(every(1, "postgres"), web))
    found = r.watch(3 * DAY, 3 * DAY + HOUR, web)
    assert [f.service for f in found] == ["postgres"]
    assert len(r.findings) == 2


def test_a_pause_shorter_than_min_silent_minutes_does_not_page() -> None:
    r = Run()
    web = every(1, "kernel")  # db-01 itself keeps logging
    r.learn(0, 2 * DAY, both(every(1, "postgres"), web))
    found = r.watch(
        2 * DAY, 2 * DAY + 60, both(every(1, "postgres", when=lambda m: m % 60 > 18), web)
    )
    assert found == []


def test_a_service_seen_for_less_than_a_day_never_pages() -> None:
    r = Run()
    web = every(1, "kernel")  # db-01 itself keeps logging
    r.learn(0, 2 * DAY, web)
    r.learn(2 * DAY, 2 * DAY + 20 * HOUR, both(every(1, "postgres"), web))
    assert r.watch(2 * DAY + 20 * HOUR, 2 * DAY + 26 * HOUR, web) == []


def test_a_silence_that_starts_and_ends_inside_a_catch_up_window_is_reported() -> None:
    r = Run()
    web = every(1, "kernel")  # db-01 itself keeps logging
    r.learn(0, 2 * DAY, both(every(1, "postgres"), web))
    late = both(every(1, "postgres", when=lambda m: m >= 2 * DAY + 30), web)
    (f,) = r.window(2 * DAY, 2 * DAY + HOUR, late)
    assert f.started_at == at(2 * DAY) and f.evidence["silent_minutes"] == 30
    assert "was silent for 30 min until 00:30" in f.summary


def test_quiet_services_never_page_on_their_own() -> None:
    r = Run(services={"postgres": ServiceInfo("postgres", ("db-01",), quiet=True)})
    web = every(1, "nginx", host="web-01")
    r.learn(0, 2 * DAY, both(every(1, "postgres"), every(1, "redis"), web))
    assert r.watch(2 * DAY, 2 * DAY + 2 * HOUR, both(every(1, "redis"), web)) == []


def test_a_pair_silent_longer_than_forget_after_days_is_dropped() -> None:
    r = Run(detector(forget_after_days=1))
    web = every(1, "nginx", host="web-01")
    r.learn(0, 2 * DAY, both(every(1, "postgres"), web))
    r.learn(2 * DAY, 3 * DAY + 2 * HOUR, web)
    assert "postgres" not in r.state and "nginx" in r.state
    assert "host:db-01" not in r.state and "host:web-01" in r.state


# -- rhythms that are not steady ----------------------------------------------


def _daytime(m: int) -> bool:
    return 7 <= hour_of(m) < 23


def test_a_diurnal_service_quiet_at_night_does_not_page_then_pages_in_its_busy_hours() -> None:
    r = Run()
    app = every(1, "nextcloud", host="web-01", when=_daytime)
    assert r.learn(0, 5 * DAY, app) == []  # every night quiet from 23:00 to 07:00
    stop = 5 * DAY + 12 * HOUR
    assert r.watch(5 * DAY, stop, app) == []
    found = r.watch(stop, stop + 3 * HOUR, lambda m: [])
    assert len(found) == 1
    f = found[0]
    assert (f.service, f.kind, f.started_at) == (None, "silent_host", at(stop))
    assert f.at == at(stop + 20) and f.evidence["judged_over"] == "hour"


def test_a_diurnal_service_is_judged_by_its_hour_not_by_the_whole_day() -> None:
    """The same service beside a host that never sleeps: the service's own finding."""
    r = Run()
    app = every(1, "nextcloud", host="web-01", when=_daytime)
    web = every(1, "nginx", host="web-01")
    assert r.learn(0, 5 * DAY, both(app, web)) == []
    stop = 5 * DAY + 12 * HOUR
    r.watch(5 * DAY, stop, both(app, web))
    (f,) = r.watch(stop, stop + 3 * HOUR, web)
    assert (f.service, f.kind, f.at) == ("nextcloud", "silent_service", at(stop + 20))


def test_the_first_night_of_a_diurnal_service_does_not_page() -> None:
    r = Run()
    app = every(1, "nextcloud", host="web-01", when=_daytime)
    web = every(1, "nginx", host="web-01")
    r.learn(7 * HOUR, DAY + 7 * HOUR, both(app, web))
    assert r.watch(DAY + 7 * HOUR, 2 * DAY + 8 * HOUR, both(app, web)) == []


def test_a_daemon_that_logs_only_at_boot_never_pages() -> None:
    r = Run()
    boot = every(DAY, "udisksd", template=7)  # a burst at 00:00 every day
    host = every(1, "cron")
    r.learn(0, 6 * DAY, both(boot, host))
    assert r.findings == []
    assert "d" not in r.state["udisksd"]["h"]["db-01"]


def test_a_bursty_kernel_never_pages() -> None:
    """Bursts of a few minutes at irregular times, an hour or more apart (USB, network)."""
    starts = {(m * 7919) % (6 * DAY) for m in range(90)}

    def kernel(m: int) -> list[Any]:
        on = any(s <= m < s + 3 for s in starts if s <= m)
        return [row(m, "kernel", host="laptop")] if on else []

    r = Run()
    r.learn(0, 6 * DAY, both(kernel, every(1, "nginx", host="web-01")))
    assert [f for f in r.findings if f.host == "laptop"] == []


def test_an_oom_victim_is_not_a_service_with_a_rhythm() -> None:
    """loghub_Linux_full.log: "Out of Memory: Killed process 28473 (httpd)." every few
    minutes for days, attributed to httpd at ingest, then none."""
    r = Run()
    victim = every(5, "httpd", template=4)
    r.learn(0, 3 * DAY, both(victim, every(1, "postgres")))
    assert r.watch(3 * DAY, 3 * DAY + 3 * HOUR, every(1, "postgres")) == []
    assert "httpd" not in r.state


# -- expected silences --------------------------------------------------------

SLEEP, WAKE = 22 * HOUR + 41, 8 * HOUR + 25  # elemoine's laptop: 22:41 to 08:25


def _laptop(day_end: int | None = None, *, nm: bool = True) -> Any:
    def rows(m: int) -> list[Any]:
        t = m % DAY
        if t > SLEEP or t < WAKE:
            return []
        if t == SLEEP:
            return [
                row(m, "kernel", host="elemoine", template=2),
                row(m, "kernel", host="elemoine", template=8),
            ]
        if t == WAKE:
            return [
                row(m, "kernel", host="elemoine", template=9),
                row(m, "kernel", host="elemoine", template=3),
            ]
        out = [row(m, "kernel", host="elemoine")]
        if nm and m % 5 == 0 and (day_end is None or m < day_end):
            out.append(row(m, "NetworkManager", host="elemoine"))
        return out

    return rows


def test_a_nightly_suspend_does_not_page() -> None:
    r = Run()
    r.learn(0, 5 * DAY, _laptop())
    assert r.findings == []


def test_after_a_resume_a_service_that_does_not_come_back_pages_counted_from_the_wake_up() -> None:
    r = Run()
    r.learn(0, 4 * DAY, _laptop())
    down = 4 * DAY + SLEEP - 1  # NetworkManager's last line before the suspend
    found = r.watch(4 * DAY, 5 * DAY + 10 * HOUR, _laptop(day_end=down + 1))
    assert [(f.service, f.kind) for f in found] == [("NetworkManager", "silent_service")]
    f = found[0]
    assert f.started_at == at(5 * DAY + WAKE) and f.at == at(5 * DAY + WAKE + 20)
    assert f.evidence["last_seen"] == at(down).isoformat()


def test_a_clean_shutdown_every_night_does_not_page() -> None:
    def rows(m: int) -> list[Any]:
        t = m % DAY
        if t == 23 * HOUR:
            return [row(m, "systemd", host="nas-01", template=5)]
        if t == 7 * HOUR:
            return [row(m, "kernel", host="nas-01", template=6)]
        if 7 * HOUR < t < 23 * HOUR:
            return [row(m, "smbd", host="nas-01")]
        return []

    r = Run()
    r.learn(0, 6 * DAY, rows)
    assert r.findings == []


def test_a_host_a_source_cannot_reach_is_left_to_host_unreachable() -> None:
    r = Run()
    web = every(1, "nginx", host="web-01")
    r.learn(0, 2 * DAY, both(every(1, "postgres"), web))
    r.sources = (
        SourceHealthRecord(
            source="ssh_journald:db-01",
            process="hub:1",
            kind="ssh_journald",
            updated_at=at(2 * DAY + 30),
            host="db-01",
            unreachable_since=at(2 * DAY),
            unreachable_grace_s=300,
        ),
    )
    assert r.watch(2 * DAY, 2 * DAY + 31, web) == []


# -- heartbeats ---------------------------------------------------------------


def _backup(**kw: Any) -> dict[str, ServiceInfo]:
    return {"backup": ServiceInfo("backup", ("nas-01",), heartbeat=timedelta(minutes=5), **kw)}


def test_a_heartbeat_pages_exactly_after_every_plus_grace_even_before_learning() -> None:
    r = Run(services=_backup())
    beat = every(5, "backup", host="nas-01", when=lambda m: m <= 50)
    assert r.watch(0, 56, beat) == []  # last line at 50; 51..55 silent: 5 minutes
    (f,) = r.watch(56, 57, beat)  # 51..56 silent: every (5) + grace (1)
    assert (f.service, f.host, f.at, f.started_at) == ("backup", "nas-01", at(57), at(51))
    assert f.evidence["expected_every"] == "5m" and f.evidence["silent_minutes"] == 6
    assert f.summary == ("backup on nas-01 silent for 6 min (last line 00:50; expected every 5m)")
    assert r.watch(57, 200, beat) == []  # once per stretch


def test_a_heartbeat_that_never_logged_pages_from_when_watching_began() -> None:
    r = Run(services=_backup())
    assert r.watch(0, 5, lambda m: []) == []  # minutes 0..4 silent
    (f,) = r.watch(5, 6, lambda m: [])  # 0..5: every (5) + grace (1)
    assert f.started_at == at(0) and "no line since watching began at 00:00" in f.summary


def test_a_heartbeat_is_held_while_its_host_is_suspended() -> None:
    r = Run(services=_backup())
    beat = every(5, "backup", host="nas-01", when=lambda m: m <= 50)
    r.watch(
        0,
        51,
        both(beat, lambda m: [row(m, "kernel", host="nas-01", template=2)] if m == 50 else []),
    )
    assert r.watch(51, 300, lambda m: []) == []


def test_a_heartbeat_watches_only_its_inventory_hosts() -> None:
    r = Run(services=_backup())
    other = every(5, "backup", host="nas-02", when=lambda m: m <= 50)
    found = r.watch(0, 100, both(other, every(5, "backup", host="nas-01")))
    assert found == []


# -- a whole host --------------------------------------------------------------


def test_a_silent_host_gives_one_host_finding_not_one_per_service() -> None:
    db = both(every(1, "postgres"), every(15, "redis"), every(7, "kernel"))
    web = every(1, "nginx", host="web-01")
    r = Run()
    r.learn(0, 2 * DAY, both(db, web))
    found = r.watch(2 * DAY, 2 * DAY + 8 * HOUR, web)
    assert len(found) == 1
    f = found[0]
    assert (f.service, f.host, f.severity, f.kind) == (None, "db-01", Severity.ERROR, "silent_host")
    assert f.subject == "host:db-01"
    assert f.started_at == at(2 * DAY) and f.at == at(2 * DAY + 20)
    assert f.summary == (
        "db-01 stopped logging at 23:59 (last from postgres); silent for 20 min; "
        "it logged in every minute around this hour"
    )
    assert f.evidence["last_service"] == "postgres"


def test_a_host_that_comes_back_pages_only_what_did_not_come_back() -> None:
    db = both(every(1, "postgres"), every(15, "redis"), every(7, "kernel"))
    web = every(1, "nginx", host="web-01")
    r = Run()
    r.learn(0, 2 * DAY, both(db, web))
    r.watch(2 * DAY, 2 * DAY + 2 * HOUR, web)
    back = 2 * DAY + 2 * HOUR
    found = r.watch(back, back + 2 * HOUR, both(every(15, "redis"), every(7, "kernel"), web))
    assert [(f.service, f.kind, f.started_at) for f in found] == [
        ("postgres", "silent_service", at(back))
    ]


def test_a_host_where_one_service_still_logs_is_not_silent_as_a_whole() -> None:
    r = Run()
    r.learn(0, 2 * DAY, both(every(1, "postgres"), every(1, "redis"), every(1, "kernel")))
    found = r.watch(2 * DAY, 2 * DAY + HOUR, every(1, "kernel"))
    assert sorted((f.service, f.kind) for f in found) == [
        ("postgres", "silent_service"),
        ("redis", "silent_service"),
    ]


# -- state ----------------------------------------------------------------------

EPOCH_MINUTE_0 = int(T0.timestamp()) // 60

BAD_PAIRS: list[Any] = [
    None,
    "garbage",
    [],
    {"t": "x"},
    {"t": 1, "a": 1, "p": 0.5, "r": 1.0},  # version 1's shape
    {"a": 5, "t": 4, "g": [0] * 24, "n": [0] * 24, "h": [0] * 24},  # last before first
    {"a": 1, "t": 2, "g": [0] * 23, "n": [0] * 24, "h": [0] * 24},
    {"a": 1, "t": 2, "g": [float("nan")] * 24, "n": [0] * 24, "h": [0] * 24},
    {"a": 1, "t": 2, "g": [0] * 24, "n": [-1] * 24, "h": [0] * 24},
    {"a": 1, "t": 2, "g": [0] * 24, "n": [0] * 24, "h": [2.0] * 24},
    {"a": 1, "t": 2, "g": [0] * 24, "n": [True] * 24, "h": [0] * 24},
    {"a": 1, "t": 2, "g": [0] * 24, "n": [0] * 24, "h": [0] * 24, "d": "soon"},
]


@pytest.mark.parametrize("bad", BAD_PAIRS, ids=[repr(b)[:40] for b in BAD_PAIRS])
def test_malformed_state_is_dropped_not_a_crash(bad: Any) -> None:
    state = {
        "postgres": {"v": 2, "h": {"db-01": bad}},
        "redis": bad,
        "host:db-01": {"v": 2, **bad} if isinstance(bad, dict) else bad,
        "host:": {"v": 2, "k": "asleep"},
    }
    r = Run(state=state)
    r.watch(0, 3, both(every(1, "postgres"), every(1, "redis")))
    assert (
        r.state["postgres"]["v"] == 2 and r.state["postgres"]["h"]["db-01"]["a"] == EPOCH_MINUTE_0
    )
    assert r.state["host:db-01"]["a"] == EPOCH_MINUTE_0
    assert "host:" not in r.state


def test_state_kept_in_memory_finds_what_state_read_back_from_the_store_finds() -> None:
    """The detector trusts the objects it wrote itself (no validation on the next tick):
    the same findings and the same state as when every tick reads JSON back."""
    rows = both(every(1, "postgres"), every(3, "redis"))
    runs = [Run(), Run(keep_objects=True)]
    for r in runs:
        r.learn(0, 2 * DAY, rows)
        r.watch(2 * DAY, 2 * DAY + HOUR, every(3, "redis"))  # postgres stops
    stored, kept = runs
    assert kept.findings == stored.findings
    assert json.loads(json.dumps(kept.state)) == stored.state
    assert ("postgres", "silent_service") in {(f.service, f.kind) for f in kept.findings}


@pytest.mark.parametrize("bad", BAD_PAIRS[3:], ids=[repr(b)[:40] for b in BAD_PAIRS[3:]])
def test_a_state_object_the_detector_did_not_write_is_validated_again(bad: Any) -> None:
    r = Run(keep_objects=True)
    r.watch(0, 3, both(every(1, "postgres"), every(1, "redis")))
    r.state["postgres"] = {"v": 2, "h": {"db-01": bad}}  # a store edited in between
    r.watch(3, 4, both(every(1, "postgres"), every(1, "redis")))
    assert r.state["postgres"]["h"]["db-01"]["a"] == EPOCH_MINUTE_0 + 3  # learnt anew


def test_state_of_version_one_is_discarded_and_relearnt() -> None:
    old = {"v": 1, "h": {"db-01": {"t": 29538720, "a": 29538000, "p": 0.9, "r": 3.0}}}
    r = Run(state={"postgres": old})
    r.watch(0, 1, every(1, "postgres"))
    assert r.state["postgres"]["v"] == 2


def test_the_state_stays_small_and_is_json() -> None:
    r = Run()
    r.learn(0, 8 * DAY, both(every(1, "postgres"), every(3, "redis")))
    pair = r.state["postgres"]["h"]["db-01"]
    assert sorted(pair) == ["a", "d", "g", "h", "n", "t"]
    assert len(str(r.state)) < 3000


def test_an_unchanged_service_is_not_rewritten() -> None:
    r = Run()
    r.learn(0, 2 * DAY, both(every(1, "postgres"), every(1, "redis")))
    before = r.state["redis"]
    w = Window(at(2 * DAY), at(2 * DAY + 1), (row(2 * DAY, "postgres"),), TEMPLATES)
    found, new_state = r.det.evaluate(w, r.state, w.end)
    assert found == [] and new_state["redis"] is before


def test_a_summary_says_what_the_silence_was_judged_against() -> None:
    now = at(2 * DAY)
    hour = host_finding(
        "mail-01", last=100, last_service="CRON", end=131, now=now, judged=(12.0, "hour")
    )
    assert hour.summary.endswith("silent for 30 min; its longest gap around this hour was 12 min")
    day = host_finding(
        "mail-01", last=100, last_service="CRON", end=131, now=now, judged=(0.0, "day")
    )
    assert day.summary.endswith("; it logged in every minute of the day")
    assert (day.evidence["longest_gap_minutes"], day.evidence["judged_over"]) == (0.0, "day")


def test_a_tick_that_visits_only_what_falls_due_finds_what_visiting_every_service_finds() -> None:
    """Handed back the very state it returned, the detector keeps its index of what
    falls due by the keys it changed; read back from JSON it indexes every key anew.
    Forty services of three rhythms on two hosts, some stopping at different moments, one
    host dying: the same findings and state, tick by tick."""
    services = [f"svc-{i:02d}" for i in range(40)]

    def rows(m: int) -> list:
        out = []
        for i, svc in enumerate(services):
            host = "db-01" if i % 2 else "web-01"
            period = (1, 3, 7)[i % 3]
            stops = 2 * DAY + 10 * (i % 5) if i % 4 == 0 else None
            dead = host == "web-01" and m >= 2 * DAY + 3 * HOUR
            if m % period == 0 and not dead and (stops is None or m < stops):
                out.append(row(m, svc, host=host))
        return out

    beats = {"svc-03": ServiceInfo("svc-03", ("db-01",), heartbeat=timedelta(minutes=5))}
    runs = [Run(services=beats), Run(services=beats, keep_objects=True)]
    for r in runs:
        r.learn(0, 2 * DAY, rows)
    for m in range(2 * DAY, 2 * DAY + 5 * HOUR):
        found = [r.window(m, m + 1, rows) for r in runs]
        assert found[0] == found[1], m
    stored, kept = runs
    assert json.loads(json.dumps(kept.state)) == stored.state
    kinds = {(f.kind, f.service) for f in kept.findings}
    assert ("silent_host", None) in kinds and ("silent_service", "svc-00") in kinds


class _VisitingAll(SilenceDetector):
    """The detector visiting every host and every pair on every tick, as it did before
    its index of what falls due (the reference of the test below)."""

    def _index(self, state: Any, keys: Any) -> None:
        for key in keys:
            if key in state:
                self._soonest[key] = None  # "malformed": visited, validated, kept
            else:
                self._soonest.pop(key, None)


def test_a_relay_ticked_through_the_index_finds_what_visiting_everything_finds() -> None:
    """A relay of 30 hosts, each with a steady cron and a sshd of its own period: hosts
    that die, services that stop, a host suspended, and a dead one a source says it cannot
    reach for a few minutes before its silence would be due. Ticked
    minute by minute with the index (kept objects, and read back from JSON) and by the
    reference visiting everything: the same findings and state, tick by tick."""
    hosts = [f"web-{i:02d}" for i in range(30)]

    def rows(m: int) -> list:
        out = []
        for i, host in enumerate(hosts):
            if i % 7 == 0 and m >= 2 * DAY + 40 * (i % 5):  # the host dies
                continue
            if m % (1 + i % 3) == 0:
                out.append(row(m, "CRON", host=host))
            stopped = i % 5 == 1 and m >= 2 * DAY + 30 + 20 * (i % 4)
            stopped = stopped or (i % 5 == 2 and m >= 2 * DAY + 3 * HOUR + 5)
            if m % (2 + i % 4) == 0 and not stopped:
                out.append(row(m, "sshd", host=host))
            if i == 3 and m == 2 * DAY + 90:
                out.append(row(m, "kernel", host=host, template=8))  # suspends
        return out

    record = SourceHealthRecord(
        source="ssh_journald:web-07",
        process="hub:1",
        kind="ssh_journald",
        updated_at=at(2 * DAY + 95),
        host="web-07",
        unreachable_since=at(2 * DAY + 90),
        unreachable_grace_s=300,
    )
    beats = {"sshd": ServiceInfo("sshd", ("web-02",), heartbeat=timedelta(minutes=30))}
    runs = [
        Run(_VisitingAll(SilenceConfig()), keep_objects=True),
        Run(),
        Run(keep_objects=True),
    ]
    for r in runs:
        r.learn(0, 2 * DAY, rows)
    for m in range(2 * DAY, 2 * DAY + 3 * HOUR):
        for r in runs:
            r.sources = (record,) if 2 * DAY + 95 <= m < 2 * DAY + 98 else ()
            r.services = beats if m >= 2 * DAY + 60 else {}
        found = [r.window(m, m + 1, rows) for r in runs]
        assert found[0] == found[1] == found[2], m
        assert json.loads(json.dumps(runs[2].state)) == runs[1].state == runs[0].state, m
    # A catch-up tick of an hour: services that stop early in it are due by its end.
    found = [r.window(2 * DAY + 3 * HOUR, 2 * DAY + 4 * HOUR, rows) for r in runs]
    assert found[0] == found[1] == found[2] != []
    assert json.loads(json.dumps(runs[2].state)) == runs[1].state == runs[0].state
    kinds = {(f.kind, f.service) for f in runs[0].findings}
    assert ("silent_host", None) in kinds and ("silent_service", "sshd") in kinds
