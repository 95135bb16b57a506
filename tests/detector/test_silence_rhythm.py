"""The rhythm math of `silence`, pure: what a fold learns and when a silence is due.

Minutes are epoch minutes; `D0` is a midnight (UTC), so `D0 + 600` is 10:00.
"""

from __future__ import annotations

import json

import pytest

from detector.detectors import silence_rhythm as rh

D0 = 29_538_720  # 2026-03-01 00:00 UTC, in epoch minutes
DAY = 24 * 60
P = rh.RhythmParams(
    gap_factor=2.0,
    day_gap_factor=3.0,
    min_silent=20,
    min_history_hours=24,
    min_bucket_days=2,
    steady_share=0.8,
    max_gap=180.0,
    keep=0.5 ** (1 / 7),
    memory=7,
    horizon=7 * DAY,
)


def every_minute(first: int, last: int, *, skip: range = range(0)) -> rh.Rhythm:
    """A rhythm with a line in each minute of [first, last] but those of `skip`."""
    r = rh.new_rhythm(first)
    for m in range(first + 1, last + 1):
        if m not in skip:
            rh.fold(r, m, r["t"], teach_gap=True, p=P)
    return r


def test_a_gap_is_the_largest_gap_of_every_hour_it_covers() -> None:
    r = every_minute(D0, D0 + 300, skip=range(D0 + 110, D0 + 190))  # 01:50 to 03:09
    assert r["g"][1] == r["g"][2] == r["g"][3] == 80
    assert r["g"][0] == r["g"][4] == 0
    assert r["n"][:5] == [1, 1, 1, 1, 1] and r["h"][2] == 0.0 and r["h"][1] == 1.0


def test_a_gap_that_was_reported_counts_its_hours_but_is_not_learnt() -> None:
    r = every_minute(D0, D0 + 100)
    rh.fold(r, D0 + 300, D0 + 100, teach_gap=False, p=P)
    assert max(r["g"]) == 0
    assert r["h"][2] == 0.0 and r["n"][2] == 1


def test_the_largest_gap_fades_by_half_in_half_life_days() -> None:
    r = every_minute(D0, D0 + 8 * DAY, skip=range(D0 + 600, D0 + 630))
    assert r["g"][10] == pytest.approx(30 * 0.5, rel=0.02)  # seen again on 7 more days


def test_less_than_a_day_of_history_judges_nothing() -> None:
    r = every_minute(D0, D0 + 20 * 60)
    assert rh.references(r, P) == [None] * 24
    assert rh.due(r, r["t"], P) is None


def test_after_a_day_the_whole_day_is_the_reference_then_each_hour_after_two() -> None:
    r = every_minute(D0, D0 + DAY + 60, skip=range(D0 + 600, D0 + 640))
    assert rh.judged_at(r, D0 + DAY + 61, P) == (40.0, "day")
    r = every_minute(D0, D0 + 3 * DAY, skip=range(D0 + 600, D0 + 640))
    assert rh.judged_at(r, D0 + 3 * DAY + 600, P) == (
        pytest.approx(40 * 0.5 ** (2 / 7), 0.02),
        "hour",
    )
    assert rh.judged_at(r, D0 + 3 * DAY + 120, P) == (0.0, "hour")


def test_a_silence_is_due_after_twice_the_largest_gap_and_at_least_twenty_minutes() -> None:
    r = every_minute(D0, D0 + 3 * DAY)
    t = r["t"]
    assert rh.due(r, t, P) == t + 21  # minutes t+1..t+20 silent
    r["g"] = [15.0] * 24
    assert rh.due(r, t, P) == t + 32  # 2 * 15 + 1 = 31 silent minutes


def test_a_silence_is_due_only_in_hours_that_are_judged() -> None:
    """Quiet every night from 23:00 to 07:00: a silence at 22:50 is due with the minute 08:00, when
    the hours around it are busy again."""
    r = rh.new_rhythm(D0 + 7 * 60)
    for m in range(D0 + 7 * 60 + 1, D0 + 4 * DAY):
        if 7 * 60 <= m % DAY < 23 * 60:
            rh.fold(r, m, r["t"], teach_gap=True, p=P)
    stop = D0 + 4 * DAY + 22 * 60 + 50
    for m in range(D0 + 4 * DAY + 7 * 60, stop + 1):
        rh.fold(r, m, r["t"], teach_gap=True, p=P)
    assert rh.due(r, stop, P) == D0 + 5 * DAY + 8 * 60 + 1  # the end of 08:00
    assert rh.references(r, P)[3] is None  # 03:00 is never judged


def test_a_source_active_in_few_hours_is_never_due() -> None:
    r = rh.new_rhythm(D0)
    for day in range(6):
        for m in range(D0 + day * DAY, D0 + day * DAY + 3):  # a boot burst a day
            if m > r["t"]:
                rh.fold(r, m, r["t"], teach_gap=True, p=P)
    assert rh.due(r, r["t"], P) is None


def test_a_rhythm_is_json_and_its_validation_refuses_what_it_cannot_use() -> None:
    r = every_minute(D0, D0 + 2 * DAY)
    back = json.loads(json.dumps(r))
    assert rh.valid_rhythm(back)
    assert not rh.valid_rhythm({**back, "g": back["g"][:-1]})
    assert not rh.valid_rhythm({**back, "h": [1.5] * 24})
    assert not rh.valid_rhythm({**back, "n": [1.0] * 24})
    assert not rh.valid_rhythm({**back, "t": back["a"] - 1})


def test_against_the_whole_day_a_silence_must_be_three_times_its_largest_gap() -> None:
    r = every_minute(D0, D0 + DAY + 60)
    r["g"] = [15.0] * 24
    t = r["t"]
    assert rh.judged_at(r, t + 1, P) == (15.0, "day")
    assert rh.due(r, t, P) == t + 47  # 3 * 15 + 1 = 46 silent minutes
