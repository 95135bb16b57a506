"""The shape of `silence`'s state: a service key's pairs, and when one of them falls due.

A service key is `{"v": version, "h": {host: pair}}`, a pair being a rhythm
(`silence_rhythm`) plus `d` (the window end at which its silence is due), `f` (the
last minute of the silent stretch that fired) and `z` (a heartbeat watched before its
first line). See `silence.py` for what they mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detector.detectors import silence_rhythm as rh
from detector.detectors._common import is_minute

#: The touch time of a service state without pairs: never.
NEVER = 2**62


#: What `touch` knows of a service state: the state, its touch time (None: malformed),
#: and the host of a pair that falls due or is forgotten then (None: no pairs).
Touch = tuple[Any, int | None, str | None]


def touch(raw: Any, version: int, forget: int, before: Touch | None = None) -> Touch:
    """The touch of service key `raw`: the first window end at which one of its pairs
    falls due (its `d`, unless that silence fired) or is forgotten (`forget` minutes
    after its last line), `NEVER` without pairs, None when `raw` is malformed; and the
    host of a pair that falls due then. Given `before`,
    the touch of the state `raw` was made from, only the pairs that are not the very
    objects of `before`'s state are read (a tick copies the pairs it changes, and never
    changes one in place): while the pair that decided `before` is still there, the
    others cannot fall due sooner. A relay's service has a pair per host, and a tick
    changes a few of them."""
    if not isinstance(raw, Mapping) or raw.get("v") != version:
        return raw, None, None
    hosts = raw.get("h")
    if not isinstance(hosts, Mapping):
        return raw, None, None
    known: Mapping[str, Any] = {}
    at, first = None, None
    if before is not None and before[1] is not None:
        old_hosts = before[0]["h"]
        if before[2] is None or hosts.get(before[2]) is old_hosts[before[2]]:
            known, at, first = old_hosts, before[1], before[2]
    for host, pair in hosts.items():
        if known.get(host) is pair:
            continue  # read before: falls due at `at` or later
        if not isinstance(pair, Mapping):
            return raw, None, None
        t, d = pair.get("t"), pair.get("d")
        if not is_minute(t) or (d is not None and not is_minute(d)):
            return raw, None, None
        soonest = t + forget + 1
        if d is not None and d < soonest and pair.get("f") != t:
            soonest = d
        if at is None or soonest < at:
            at, first = soonest, host
    return raw, (NEVER if at is None else at), first


def dues(p: Mapping[str, Any], forget: int) -> tuple[int, ...]:
    """When pair or host `p` (validated) is forgotten and, unless that silence fired, when
    it falls due: both, for the first of them after a given moment."""
    gone, d = p["t"] + forget + 1, p.get("d")
    return (gone, d) if d is not None and p.get("f") != p["t"] else (gone,)


def service_dues(raw: Mapping[str, Any], at: int, after: int, forget: int) -> list[int]:
    """The dues of service key `raw` (validated), whose touch (`touch`) is `at`: `at` when
    it is later than `after`, else each pair's (one held past its due hides the others')."""
    if at > after:
        return [at]
    return [x for p in raw["h"].values() for x in dues(p, forget)]


def held(soonest: Mapping[str, int | None], end: int) -> bool:
    """Whether a key of the index `soonest` (key -> first window end at which it is due or
    forgotten, None: malformed) is due by `end` and still there after the tick at `end`:
    a silence held (its host asleep, or deciding for its pairs: `host_deciding`), which
    a tick at the next minute with a line of its host may end."""
    return any(at is None or at <= end for at in soonest.values())


def host_touched_at(hs: Mapping[str, Any], forget: int) -> int:
    """When a host's state (validated) falls due (its `d`, unless that silence fired) or
    is forgotten."""
    at = hs["t"] + forget + 1
    d = hs.get("d")
    return min(at, d) if d is not None and hs.get("f") != hs["t"] else at


def host_deciding(hs: Mapping[str, Any] | None, t: int, end: int) -> bool:
    """Whether a pair last heard at `t` waits for its host's verdict: the whole host has
    been quiet since (no line in the window's last minute) and its own rhythm, whose gaps
    are never longer than the pair's, will judge it within about one of its gaps."""
    if hs is None or hs["t"] >= end - 1 or t > hs["t"]:
        return False
    d = hs.get("d")
    return d is not None and d > end


def valid_pair(raw: Mapping[str, Any]) -> bool:
    """Whether `raw` is a well-formed pair (a rhythm, and minutes as `d` and `f`)."""
    if not rh.valid_rhythm(raw):
        return False
    return all(raw.get(k) is None or is_minute(raw[k]) for k in ("d", "f"))


def set_due(p: dict[str, Any], due: int | None) -> None:
    """Set the pair's (or host's) due window end; None: never due."""
    if due is None:
        p.pop("d", None)
    else:
        p["d"] = due
