"""RecentCounts: each minute handed over once, first sightings as the store keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logvigil.ingest.recent import RecentCounts

T0 = datetime(2005, 6, 9, 6, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def key(minute: int, service: str = "sshd", tid: int = 1) -> tuple:
    return (T0 + minute * MIN, "combo", service, tid, 1)


def test_minutes_are_handed_over_once_in_key_order() -> None:
    recent = RecentCounts()
    for m, svc in [(2, "sshd"), (0, "sshd"), (0, "cron"), (0, "sshd"), (1, "su")]:
        recent.add(key(m, svc), T0 + m * MIN)
    taken = recent.take(T0, T0 + 2 * MIN)
    assert taken.counts == [(key(0, "cron"), 1), (key(0, "sshd"), 2), (key(1, "su"), 1)]
    assert recent.take(T0, T0 + 2 * MIN).counts == []
    assert recent.take(T0 + 2 * MIN, T0 + 3 * MIN).counts == [(key(2), 1)]
    assert len(recent) == 0


def test_a_minute_before_the_window_is_dropped_not_kept() -> None:
    recent = RecentCounts()
    recent.add(key(0), T0)
    recent.add(key(5), T0 + 5 * MIN)
    assert recent.take(T0 + 5 * MIN, T0 + 6 * MIN).counts == [(key(5), 1)]
    assert len(recent) == 0


def test_a_pair_is_first_seen_at_its_earliest_line_and_only_once() -> None:
    recent = RecentCounts(known_pairs=[("cron", 7)])
    recent.add(key(1), T0 + 1 * MIN + timedelta(seconds=30))
    recent.add(key(1), T0 + 1 * MIN + timedelta(seconds=10))  # written earlier, read later
    recent.add(key(1, "cron", 7), T0 + MIN)  # already in the store
    assert recent.take(T0, T0 + 2 * MIN).first_seen == {
        ("sshd", 1): T0 + MIN + timedelta(seconds=10)
    }
    recent.add(key(2), T0 + 2 * MIN)
    assert recent.take(T0 + 2 * MIN, T0 + 3 * MIN).first_seen == {}
