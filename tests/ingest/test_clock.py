"""Placing lines on the replay's timeline when a host's clock misbehaves (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logvigil.ingest.clock import HostClocks, ReorderBuffer

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
