"""`silence_state.touch` read from the state before gives what reading every pair gives."""

from __future__ import annotations

import random
from typing import Any

from detector.detectors import silence_rhythm as rh
from detector.detectors._common import from_minute
from detector.detectors.silence import SilenceDetector
from detector.detectors.silence_state import NEVER, service_dues, touch

FORGET = 7 * 24 * 60


def _pair(rng: random.Random, t: int) -> dict[str, Any]:
    pair: dict[str, Any] = {"t": t}
    if rng.random() < 0.7:
        pair["d"] = t + rng.randint(1, 300)
    if rng.random() < 0.2:
        pair["f"] = t
    return pair


def _full(raw: Any) -> int | None:
    """The touch time from every pair (no earlier state)."""
    return touch(raw, 2, FORGET)[1]


def test_a_touch_read_from_the_state_before_equals_one_read_from_every_pair() -> None:
    """A relay's service, tick by tick: a few pairs replaced by copies (as a tick
    changes them), added, dropped, now and then a malformed one or none at all."""
    rng = random.Random(12)
    for _ in range(40):
        hosts = {f"h{i:03d}": _pair(rng, rng.randint(0, 500)) for i in range(rng.randint(0, 30))}
        raw: Any = {"v": 2, "h": hosts}
        before = touch(raw, 2, FORGET)
        for tick in range(60):
            hosts = dict(raw["h"])  # the pairs shared, as a tick leaves them
            for _ in range(rng.randint(0, 4)):
                roll = rng.random()
                if hosts and roll < 0.5:  # a pair that logged or fell due: a copy
                    host = rng.choice(sorted(hosts))
                    hosts[host] = _pair(rng, hosts[host]["t"] + rng.randint(0, 200))
                elif hosts and roll < 0.7:  # forgotten
                    del hosts[rng.choice(sorted(hosts))]
                else:
                    hosts[f"h{rng.randint(0, 60):03d}"] = _pair(rng, 500 + tick)
            if rng.random() < 0.05:  # malformed: no last minute
                hosts["bad"] = {"d": 5}
            raw = {"v": 2, "h": hosts}
            found = touch(raw, 2, FORGET, before)
            assert found[1] == _full(raw), tick
            if found[1] not in (None, NEVER):
                decided = {"v": 2, "h": {found[2]: raw["h"][found[2]]}}
                assert _full(decided) == found[1]  # the pair named falls due then
            if found[1] is None:
                raw = {"v": 2, "h": {h: p for h, p in hosts.items() if h != "bad"}}
                found = touch(raw, 2, FORGET)
            before = found


def test_a_changed_pair_is_read_and_an_unchanged_one_is_trusted() -> None:
    """The pair that decided the touch time replaced by a later one: the next pair's time;
    a copy of an unchanged pair made due sooner: its time."""
    a, b = {"t": 10, "d": 40}, {"t": 10, "d": 90}
    before = touch({"v": 2, "h": {"a": a, "b": b}}, 2, FORGET)
    assert before[1:] == (40, "a")
    later = {"v": 2, "h": {"a": {"t": 60, "d": 200}, "b": b}}
    assert touch(later, 2, FORGET, before)[1:] == (90, "b")
    sooner = {"v": 2, "h": {"a": a, "b": {"t": 10, "d": 20}}}
    assert touch(sooner, 2, FORGET, before)[1:] == (20, "b")
    dropped = {"v": 2, "h": {"b": b}}
    assert touch(dropped, 2, FORGET, before)[1:] == (90, "b")
    assert touch({"v": 2, "h": {}}, 2, FORGET, before)[1:] == (NEVER, None)


def test_a_pair_held_past_its_due_does_not_hide_the_next_due_of_its_service() -> None:
    """A pair whose silence waits for its host's verdict keeps its due; the service's
    touch is then that past due, and the detector's `next_due` must still name the due
    of another pair after it (a backtest that coalesces ticks relies on it)."""
    det = SilenceDetector()
    held = rh.new_rhythm(1_000)
    held["d"] = 1_030  # due, not fired: waiting
    later = rh.new_rhythm(1_000)
    later["d"] = 1_300
    state = {"nginx": {"v": det.state_version, "h": {"web-01": held, "web-02": later}}}
    assert touch(state["nginx"], det.state_version, FORGET)[1] == 1_030
    assert det.next_due(state, from_minute(1_100)) == from_minute(1_300)
    assert service_dues(state["nginx"], 1_030, 1_100, FORGET) == [
        1_000 + FORGET + 1,
        1_030,
        1_000 + FORGET + 1,
        1_300,
    ]
