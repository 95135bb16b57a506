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


def touched_at(raw: Any, version: int, forget: int) -> int | None:
    """The first window end at which one of the pairs of service key `raw` falls due
    (its `d`, unless that silence fired) or is forgotten (`forget` minutes after its
    last line); `NEVER` without pairs; None when `raw` is malformed."""
    if not isinstance(raw, Mapping) or raw.get("v") != version:
        return None
    hosts = raw.get("h")
    if not isinstance(hosts, Mapping):
        return None
    at: int | None = None
    for pair in hosts.values():
        if not isinstance(pair, Mapping):
            return None
        t, d, f = pair.get("t"), pair.get("d"), pair.get("f")
        if not is_minute(t) or (d is not None and not is_minute(d)):
            return None
        soonest = t + forget + 1
        if d is not None and f != t:
            soonest = min(soonest, d)
        at = soonest if at is None else min(at, soonest)
    return at if at is not None else NEVER


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
