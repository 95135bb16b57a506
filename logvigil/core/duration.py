"""Durations as people write them in config and on the command line: `30s`, `5m`, `2h`,
`1d`, `1w`, `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

_WHOLE = re.compile(r"(?:\d+[smhdw])+")
_TERM = re.compile(r"(\d+)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
HINT = "a duration such as 30s, 5m, 2h or 1h30m"


def parse_duration(text: str, *, at_most: timedelta | None = None) -> timedelta:
    """`text` as a positive timedelta (spaces and case ignored). Raises ValueError saying
    what is wrong: no unit, not positive, longer than `at_most`, not a duration."""
    s = text.strip().lower().replace(" ", "")
    if s.startswith("-") and _WHOLE.fullmatch(s[1:]):
        raise ValueError(f"must be positive: {HINT}")
    if s.isdigit():
        raise ValueError(f"needs a unit: {HINT}")
    if not _WHOLE.fullmatch(s):
        raise ValueError(f"expected {HINT}")
    seconds = sum(int(n) * _SECONDS[u] for n, u in _TERM.findall(s))
    if seconds <= 0:
        raise ValueError(f"must be positive: {HINT}")
    if at_most is not None and seconds > at_most.total_seconds():
        raise ValueError(f"must be at most {at_most.days}d")
    return timedelta(seconds=seconds)
