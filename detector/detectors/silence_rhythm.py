"""The rhythm of one log source: the gaps it shows, by hour of day, and when its silence is due.

A rhythm is learnt from the minutes in which a source (a service on a host, or a
whole host) wrote at least one line that counts as evidence. It keeps, for each
of the 24 hours of the (UTC) day:

- `g[b]`: the largest gap, in silent minutes, that covered any minute of hour `b`,
  decayed by `keep` each time hour `b` is observed again (about once a day, so a
  gap is forgotten by halves over `half_life_days`);
- `n[b]`: how many hour slots of hour `b` were observed (capped at `N_CAP`);
- `h[b]`: the share of those slots with at least one line (a running mean over
  the first `memory` slots, then an EWMA of that memory).

An hour slot is "observed" when it lies inside the source's history and outside
an expected silence (a suspended or shut-down host: see `silence.py`); it is
accounted when the next line arrives, so the silence being judged never teaches.

A silence counted from minute `start` is judged, at each hour of day `b`, against
`ref(b)`, the largest gap the source has shown around that hour:

- *per hour* when hours `b-1`, `b`, `b+1` were each observed on at least
  `min_bucket_days` days: `ref = max g` over those three hours, and the source must be
  active in at least `steady_share` of their slots (on average over the three: one
  outage in an hour, reported or not, does not make that hour unsteady, a rhythm's
  first or last hour of the day does). The neighbours absorb a rhythm that starts
  ten minutes late and a one-hour daylight-saving shift; two days per hour are the
  least that tells a habit from a coincidence;
- *over the whole day* before that: `ref = max g` over all hours, and the source must
  be active in `steady_share` of all its observed hours. Once a day has been seen
  (`min_history_hours`) every lull of a daily rhythm (a quiet night, a nightly
  suspend without a marker) has shown itself at least once, so this reference is
  the most lenient one: it only catches sources that log around the clock;
- never when `ref > max_gap`: a source whose gaps reach hours at that time of day
  is not steady enough for its silence to mean anything soon (declare it with
  `expect:` in the inventory if it must be watched);
- never before `min_history_hours` observed hours: a source seen for less than a
  day (a daemon that logs only at boot, a process seen once) has no rhythm.

The silence is due at the first minute `e` whose hour is judged and where
`e - start >= max(min_silent, floor(factor * ref) + 1)`: clearly beyond the largest
gap shown at that time of day. `factor` is `gap_factor` against an hour's reference
and the larger `day_gap_factor` against the whole day's: one day shows each hour
once, and the largest gap of a source whose rate falls at night (a web app at
04:00) is then a young estimate of its tail. All of this is a few lists of 24 numbers,
JSON as they are.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from detector.detectors._common import is_minute

HOURS = 24
#: Each hour of day with its neighbours.
_NEAR = tuple(((b - 1) % HOURS, b, (b + 1) % HOURS) for b in range(HOURS))
#: `n[b]` stops counting here: it only says "mature" and sets the EWMA's weight.
N_CAP = 999
#: At most this many hour slots of one gap are accounted (two weeks).
MAX_SLOTS = 14 * HOURS

Rhythm = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RhythmParams:
    """How a rhythm learns and judges (from `SilenceConfig`; see its fields)."""

    gap_factor: float
    #: `gap_factor` while the reference is the whole day's largest gap.
    day_gap_factor: float
    min_silent: int
    min_history_hours: int
    min_bucket_days: int
    steady_share: float
    max_gap: float
    #: Multiplier of `g[b]` per observation of hour `b` (0.5 ** (1 / half_life_days)).
    keep: float
    #: Slots over which `h[b]` is a running mean before it becomes an EWMA.
    memory: int
    #: No silence is due later than this many minutes after its start.
    horizon: int


def new_rhythm(minute: int) -> Rhythm:
    """A rhythm whose first line is at `minute` (its hour slot observed, active)."""
    r: Rhythm = {"a": minute, "t": minute, "g": [0.0] * HOURS, "n": [0] * HOURS, "h": [0.0] * HOURS}
    _observe(r, minute // 60, True, 1.0, 1)
    return r


def valid_rhythm(raw: Mapping[str, Any]) -> bool:
    """Whether `raw` holds a well-formed rhythm (`a`, `t` and the three lists)."""
    a, t = raw.get("a"), raw.get("t")
    if not (is_minute(a) and is_minute(t)) or t < a:
        return False
    g, n, h = raw.get("g"), raw.get("n"), raw.get("h")
    if not (isinstance(g, list) and isinstance(n, list) and isinstance(h, list)):
        return False
    if not (len(g) == len(n) == len(h) == HOURS):
        return False
    return (
        _amounts(g, math.inf)
        and all(type(x) is int for x in n)
        and _amounts(n, N_CAP)
        and _amounts(h, 1.0)
    )


_NUMBER = (int, float)


def _amounts(xs: list[Any], top: float) -> bool:
    """Finite non-negative numbers (not bools) of at most `top`; fast for lists of 24."""
    if not all(type(x) in _NUMBER for x in xs):
        return False
    return math.isfinite(math.fsum(xs)) and min(xs) >= 0 and max(xs) <= top


def copy_rhythm(raw: Mapping[str, Any]) -> Rhythm:
    """A copy of `raw` whose lists may be changed in place."""
    out = dict(raw)
    for key in ("g", "n", "h"):
        out[key] = list(raw[key])
    return out


def _observe(r: Rhythm, slot: int, active: bool, keep: float, memory: int) -> None:
    """Account one observed hour slot: decay its hour's largest gap, update its share."""
    b = slot % HOURS
    n = r["n"][b] = min(r["n"][b] + 1, N_CAP)
    h = r["h"][b]
    r["h"][b] = round(h + ((1.0 if active else 0.0) - h) / min(n, memory), 4)
    if r["g"][b]:
        r["g"][b] = round(r["g"][b] * keep, 1)


def fold(r: Rhythm, minute: int, start: int, *, teach_gap: bool, p: RhythmParams) -> None:
    """Fold a line at `minute` (> `r["t"]`) into `r`, the silence counted from `start`.

    `start` is `r["t"]`, or later when the host was expectedly silent in between (the
    minute before it woke): the hours before it are not observed. The hours strictly
    between `start`'s and `minute`'s are observed without a line, `minute`'s with one.
    The gap is learnt as the largest gap of every hour it covers unless `teach_gap`
    is False (a silence that was reported: it was a fault, not the rhythm).
    """
    first_slot, last_slot = start // 60 + 1, minute // 60
    for slot in range(max(first_slot, last_slot - MAX_SLOTS), last_slot):
        _observe(r, slot, False, p.keep, p.memory)
    if last_slot > r["t"] // 60:
        _observe(r, last_slot, True, p.keep, p.memory)
    gap = minute - start - 1
    if teach_gap and gap > 0:
        g = r["g"]
        lo, hi = (start + 1) // 60, (minute - 1) // 60
        for slot in range(max(lo, hi - HOURS + 1), hi + 1):
            b = slot % HOURS
            if gap > g[b]:
                g[b] = float(gap)
    r["t"] = minute


class _References:
    """The reference of each hour of day of one rhythm, computed when first asked for
    (a silence is usually judged at its own hour: one of the 24 is enough)."""

    __slots__ = ("_overall", "_p", "_r", "_refs", "seen")

    def __init__(self, r: Mapping[str, Any], p: RhythmParams) -> None:
        self._r, self._p = r, p
        self.seen = sum(r["n"])
        self._refs: list[float | bool | None] = [False] * HOURS  # False: not computed
        self._overall: float | bool | None = False

    def overall(self) -> float | None:
        if self._overall is False:
            r, p = self._r, self._p
            share = sum(map(operator.mul, r["h"], r["n"])) / self.seen
            self._overall = max(r["g"]) if share >= p.steady_share else None
        return self._overall  # type: ignore[return-value]

    def hourly(self, b: int) -> bool:
        """Whether hour `b` and its neighbours are old enough for their own reference."""
        n, days = self._r["n"], self._p.min_bucket_days
        a, _, c = _NEAR[b]
        return n[a] >= days and n[b] >= days and n[c] >= days

    def __getitem__(self, b: int) -> float | None:
        ref = self._refs[b]
        if ref is not False:
            return ref  # type: ignore[return-value]
        p = self._p
        if self.seen < p.min_history_hours:
            ref = None
        elif self.hourly(b):
            h, g = self._r["h"], self._r["g"]
            a, _, c = _NEAR[b]
            ok = h[a] + h[b] + h[c] >= 3 * p.steady_share
            ref = max(g[a], g[b], g[c]) if ok else None
        else:
            ref = self.overall()
        if ref is not None and ref > p.max_gap:
            ref = None
        self._refs[b] = ref
        return ref


def references(r: Mapping[str, Any], p: RhythmParams) -> list[float | None]:
    """For each hour of day, the largest gap a silence there is judged against, or None
    when a silence at that hour is not judged (see the module's docstring)."""
    refs = _References(r, p)
    return [refs[b] for b in range(HOURS)]


def needed(ref: float, p: RhythmParams, *, hourly: bool = True) -> int:
    """Silent minutes that are clearly beyond a largest gap of `ref` minutes, the
    reference of an hour (`hourly`) or of the whole day."""
    factor = p.gap_factor if hourly else p.day_gap_factor
    return max(p.min_silent, math.floor(factor * ref) + 1)


def due(r: Mapping[str, Any], start: int, p: RhythmParams) -> int | None:
    """The window end at which a silence counted from `start` (the last minute with a
    line) is due if nothing more is logged, or None when it never is (within
    `p.horizon`, or when no hour of the day is judged)."""
    refs = _References(r, p)
    if refs.seen < p.min_history_hours:
        return None
    first, stop = start // 60, (start + p.horizon) // 60
    unjudged = 0
    for slot in range(first, stop + 1):
        ref = refs[slot % HOURS]
        if ref is None:
            unjudged += 1
            if unjudged >= HOURS:  # a whole day without a judged hour: none ever is
                return None
            continue
        unjudged = 0
        hourly = refs.hourly(slot % HOURS)
        last = max(slot * 60, start + needed(ref, p, hourly=hourly))  # the last silent minute
        if last < slot * 60 + 60:
            return last + 1 if last - start <= p.horizon else None
    return None


def judged_at(r: Mapping[str, Any], minute: int, p: RhythmParams) -> tuple[float, str] | None:
    """The reference gap and its scope ("hour" or "day") for a silence judged at `minute`."""
    b = minute % (HOURS * 60) // 60
    refs = _References(r, p)
    ref = refs[b]
    if ref is None:
        return None
    return ref, "hour" if refs.hourly(b) else "day"
