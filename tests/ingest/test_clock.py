"""Placing lines on the replay's timeline when a host's clock misbehaves (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logvigil.core.events import Severity
from logvigil.ingest.clock import (
    ClockJump,
    ClockSkew,
    HostClocks,
    LineOrder,
    NewestFirst,
    ReorderBuffer,
    clock_findings,
)

T = datetime(2019, 4, 7, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_lines_a_little_out_of_order_keep_their_time() -> None:
    c = HostClocks()
    assert c.place("a", T).ts == T
    late = c.place("b", T - 3 * M)  # another host's line, three minutes behind
    assert (late.ts, late.shifted, late.jump) == (T - 3 * M, None, None)


def test_a_clock_eight_hours_back_continues_at_the_timeline_until_set_right() -> None:
    # A machine whose RTC keeps local time (UTC+8) boots with its clock 8 h behind.
    c = HostClocks()
    c.place("laptop", T)
    first = c.place("laptop", T + M - 8 * H)
    assert first.jump is not None and first.jump.by == 8 * H - M and first.ts == T
    later = c.place("laptop", T + 10 * M - 8 * H)
    assert later.ts == T + 9 * M and later.shifted == 8 * H - M and later.jump is None
    # Another host is not shifted.
    assert c.place("nas", T + 5 * M).shifted is None
    # NTP steps the clock forward: back in step, its own time again.
    fixed = c.place("laptop", T + 11 * M)
    assert (fixed.ts, fixed.shifted) == (T + 11 * M, None)


def test_an_unset_clock_is_placed_at_its_hosts_point_in_time_and_marked() -> None:
    c = HostClocks()
    epoch = datetime(1970, 1, 1, 0, 0, 12, tzinfo=UTC)
    before = c.place("pi", epoch)
    assert before.unset and c.point is None  # nothing set yet: the caller holds it
    c.place("pi", T)
    after = c.place("pi", epoch + M)
    assert after.unset and after.ts == T and after.shifted == T - (epoch + M)
    assert after.jump is None and not c.offsets  # not a jump of a set clock


def test_the_reorder_buffer_releases_in_time_order_and_keeps_ties_in_arrival_order() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer()
    for ts, name in [(T, "a"), (T + 2 * M, "c"), (T + M, "b"), (T + M, "b2"), (T + 3 * M, "d")]:
        buf.push(ts, name)
    assert list(buf.release(T + M)) == ["a", "b", "b2"]
    buf.push(T + M, "late")  # behind what was released: still released next, in place
    assert list(buf.release()) == ["late", "c", "d"] and len(buf) == 0


# Loghub's Linux log (a Red Hat 9 server, 2005, local time EDT): BIND runs chrooted
# (`-t /var/named/chroot`) with no /etc/localtime inside, so `named[pid]` stamps its
# lines in UTC, four hours ahead of every other program, including the init script's
# own "named startup succeeded" (no pid). Lines 245-263 of the file, in their order.
LINUX_BOOT = [
    ("httpd", "", "06:07:06"),  # httpd: httpd startup succeeded
    ("squid", "2261", "06:07:07"),  # Squid Parent: child process 2264 started
    ("named", "2275", "10:07:13"),  # starting BIND 9.2.3 -u named -t /var/named/chroot
    ("named", "2275", "10:07:13"),  # using 1 CPU
    ("named", "", "06:07:13"),  # named startup succeeded
    ("named", "2275", "10:07:13"),  # loading configuration from '/etc/named.conf'
    ("snmpd", "", "06:07:15"),  # snmpd startup succeeded
    ("named", "2275", "10:07:16"),  # listening on IPv4 interface eth0:9 ...
]


def at(hms: str) -> datetime:
    h, m, s = map(int, hms.split(":"))
    return datetime(2005, 6, 9, h, m, s, tzinfo=UTC)


def test_a_chrooted_named_writing_utc_is_one_skew_and_its_lines_move_back() -> None:
    c = HostClocks()
    placed = [c.place("combo", at(t), svc, pid) for svc, pid, t in LINUX_BOOT]
    (skew,) = [p.skew for p in placed if p.skew is not None]
    assert (skew.host, skew.writer, skew.by) == ("combo", "named[2275]", 4 * H)
    assert skew.at == at("06:07:07")  # where the timeline was before named's step
    assert placed[4].skew is skew  # the init script's line showed it
    assert not any(p.jump for p in placed)  # no host clock jumped
    # After the verdict named's lines are placed in local time with the rest.
    assert placed[5].ts == at("06:07:13") and placed[5].shifted == -4 * H
    assert placed[7].ts == at("06:07:16") and c.point == at("06:07:16")


def test_a_forward_step_confirmed_by_another_program_is_quiet_time_not_a_skew() -> None:
    c = HostClocks()
    c.place("combo", at("06:07:06"), "httpd")
    c.place("combo", at("10:07:13"), "crond")  # four quiet hours, then cron
    after = c.place("combo", at("10:07:15"), "snmpd")
    assert (after.skew, after.jump, after.ts) == (None, None, at("10:07:15"))
    assert not c.skews


def test_a_known_skewed_process_that_steps_again_is_further_off() -> None:
    # named[2288] in July (EDT: UTC-4), and a named[2288] again in January (EST: UTC-5).
    c = HostClocks()
    c.skews["combo", "named[2288]"] = 4 * H
    c.place("combo", at("17:23:10"), "syslogd")
    c.place("combo", at("22:23:17"), "named", "2288")  # 5 h ahead, 1 h after the old skew
    judged = c.place("combo", at("17:23:20"), "snmpd")
    assert judged.skew is not None and judged.skew.by == 5 * H
    assert c.place("combo", at("22:23:21"), "named", "2288").ts == at("17:23:21")


def test_repeated_jumps_of_one_host_are_one_information_finding() -> None:
    jumps = [ClockJump("combo", T + i * M, 4 * H) for i in range(10)]
    skews = [
        ClockSkew("combo", f"named[{pid}]", "named", T + i * 24 * H, 4 * H)
        for i, pid in enumerate(("2275", "2306"))
    ]
    found = clock_findings([*jumps, ClockJump("laptop", T, 8 * H)], skews)
    assert [(f.kind, f.host, f.evidence["count"]) for f in found] == [
        ("clock_jump", "combo", 10),
        ("clock_jump", "laptop", 1),
        ("clock_skew", "combo", 2),
    ]
    assert all(f.severity is Severity.INFO and f.detector == "clock" for f in found)
    assert "jumped back 4.0 h" in found[0].summary and "10 times" in found[0].summary
    assert "named wrote times 4.0 h ahead" in found[2].summary


def test_the_reorder_buffer_gives_up_the_items_asked_for_in_order() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer()
    for i, name in enumerate(["a", "named1", "b", "named2"]):
        buf.push(T + i * M, name)
    assert list(buf.release(T)) == ["a"]
    assert buf.take(lambda s: s.startswith("named")) == ["named1", "named2"]
    buf.push(T - H, "named1 moved back")
    assert list(buf.release()) == ["named1 moved back", "b"]


def test_line_order_names_a_host_listed_newest_first_by_its_steps_of_time() -> None:
    order = LineOrder()
    base = datetime(2026, 3, 4, 10, tzinfo=UTC)
    for i in range(40):  # db-01 newest first, web-01 oldest first, interleaved
        order.see("db-01", base - i * timedelta(seconds=10))
        order.see("web-01", base + i * timedelta(seconds=10))
        order.see("web-01", base + i * timedelta(seconds=10))  # the same time: no step
    assert order.newest_first() == [NewestFirst("db-01", 39, 39)]


def test_line_order_needs_most_steps_and_twenty_of_them_back() -> None:
    base = datetime(2026, 3, 4, 10, tzinfo=UTC)
    few = LineOrder()
    for i in range(20):  # 19 steps back: too few to tell a file's order
        few.see("db-01", base - i * timedelta(seconds=10))
    assert few.newest_first() == []
    mixed = LineOrder()
    times = [base - i * timedelta(seconds=10) for i in range(40)]
    for i, t in enumerate(times):  # every fourth step forward (25%): not newest first
        mixed.see("db-01", t + timedelta(seconds=15) if i % 4 == 3 else t)
    assert mixed.newest_first() == []
