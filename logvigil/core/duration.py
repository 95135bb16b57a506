"""Durations as people write them in config and on the command line: `30s`, `5m`, `2h`,
`1d`, `1w`, `1h30m`.

No duration is longer than `MAX_DURATION` (ten years): a caller may ask for less
(`at_most`), never for more, so adding one to a date cannot leave the calendar.
"""

from __future__ import annotations

import re
from datetime import timedelta

_WHOLE = re.compile(r"(?:\d+[smhdw])+")
_TERM = re.compile(r"(\d+)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
HINT = "a duration such as 30s, 5m, 2h or 1h30m"
#: The longest duration anything accepts.
MAX_DURATION = timedelta(days=3650)
#: Longer numbers are over `MAX_DURATION` in any unit (and are not converted at all).
_MAX_DIGITS = 12


def parse_duration(text: str, *, at_most: timedelta | None = None) -> timedelta:
    """`text` as a positive timedelta (spaces and case ignored). Raises ValueError saying
    what is wrong: no unit, not positive, longer than `at_most` (at most and by default
    `MAX_DURATION`), not a duration."""
    limit = MAX_DURATION if at_most is None else min(at_most, MAX_DURATION)
    s = text.strip().lower().replace(" ", "")
    if s.startswith("-") and _WHOLE.fullmatch(s[1:]):
        raise ValueError(f"must be positive: {HINT}")
    if s.isdigit():
        raise ValueError(f"needs a unit: {HINT}")
    if not _WHOLE.fullmatch(s):
        raise ValueError(f"expected {HINT}")
    terms = _TERM.findall(s)
    if any(len(n.lstrip("0")) > _MAX_DIGITS for n, _ in terms):
        raise ValueError(f"must be at most {limit.days}d")
    seconds = sum(int(n) * _SECONDS[u] for n, u in terms)
    if seconds <= 0:
        raise ValueError(f"must be positive: {HINT}")
    if seconds > limit.total_seconds():
        raise ValueError(f"must be at most {limit.days}d")
    return timedelta(seconds=seconds)
