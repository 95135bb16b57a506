"""Helpers shared by the detectors: minute arithmetic, state reading, summaries, powers.

Private: the detectors' public shape is `base.py`. Times inside persisted
state are *epoch minutes* (whole minutes since 1970-01-01 UTC, an int): small
in JSON, exact, and cheap to compare.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from logvigil.core.redact import redact

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


#: Hours of observation before a service's spikes and new templates count.
DEFAULT_LEARNING_HOURS = 24.0

#: Template text in a summary is cut to this many characters (then "...").
SUMMARY_TEMPLATE_CHARS = 120

_EPOCH_MINUTE_CACHE: dict[datetime, int] = {}


def to_minute(ts: datetime) -> int:
    """Return the epoch minute holding `ts` (a naive `ts` is taken to be UTC)."""
    m = _EPOCH_MINUTE_CACHE.get(ts)
    if m is None:
        aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
        m = math.floor(aware.timestamp() / 60)
        if len(_EPOCH_MINUTE_CACHE) > 4096:
            _EPOCH_MINUTE_CACHE.clear()
        _EPOCH_MINUTE_CACHE[ts] = m
    return m


def powers(base: float, exponents: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Return `base ** e` for each int `e` of `exponents`, each bit for bit what Python's
    float `**` gives.

    numpy's vectorised `power` may differ from the C library's `pow` in the last bit
    (SIMD builds), and an EWMA carries such a bit into its persisted state; a tick holds
    few distinct exponents (gaps in minutes), so each distinct one goes through Python
    once.
    """
    import numpy as np  # deferred: heavy (~15 MB, 80 ms); a tick needs it, commands do not

    distinct, where = np.unique(exponents, return_inverse=True)
    table = np.array([base**e for e in distinct.tolist()], dtype=np.float64)
    return table[where]


def from_minute(minute: int) -> datetime:
    """Return the aware UTC datetime at the start of epoch minute `minute`."""
    return datetime.fromtimestamp(minute * 60, tz=UTC)


def next_after(minutes: Iterable[int], after: int) -> datetime | None:
    """The earliest of `minutes` later than minute `after`, as a time (None: none is)."""
    later = [m for m in minutes if m > after]
    return from_minute(min(later)) if later else None


def versioned(state: Mapping[str, Any], key: str, version: int) -> Mapping[str, Any] | None:
    """Return `state[key]` when it is a dict of this `version`, else None (discard it)."""
    raw = state.get(key)
    if isinstance(raw, Mapping) and raw.get("v") == version:
        return raw
    return None


def is_minute(value: Any) -> bool:
    """True for a plausible epoch minute (an int, not a bool)."""
    return type(value) is int and 0 <= value < 10**9


def is_amount(value: Any) -> bool:
    """True for a finite, non-negative number (a JSON float or int, not a bool)."""
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


def clip(text: str, limit: int = SUMMARY_TEMPLATE_CHARS) -> str:
    """Return log text for a finding's summary: secrets redacted (`redact`), cut to
    `limit` characters, with "..." when it was longer."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit].rstrip() + " ..."


def one_host(hosts: Iterable[str]) -> str | None:
    """The single host of `hosts`, or None when there are several (or none)."""
    distinct = set(hosts)
    return next(iter(distinct)) if len(distinct) == 1 else None


def fmt(x: float) -> str:
    """A count or rate for a summary: `48`, `0.4`, `1200`."""
    if x >= 100 or float(x).is_integer():
        return f"{x:.0f}"
    return f"{x:.1f}"
