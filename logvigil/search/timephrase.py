"""Time phrases of a question ("last night", "since 09:00", "on March 4") as a range. Pure.

`find_range(question, now, zone)` reads the first time phrase of a question in the
operator's time zone and returns the UTC range it means, with the phrase itself:

| phrase | range (local time) |
|---|---|
| `today` | 00:00 today to now |
| `yesterday` | 00:00 to 24:00 yesterday |
| `last night`, `tonight` | 18:00 yesterday to 08:00 today (from 18:00 today for `tonight`) |
| `this morning`, `this afternoon`, `this evening` | 06-12, 12-18, 18-24 h today |
| `since 09:00`, `since 9am`, `since yesterday`, `since March 4` | from then to now |
| `between 02:00 and 04:00`, `from 2am to 4am` | that span, on the last day it is past |
| `in the last 2 hours`, `past 3 days`, `last hour`, `last 30 minutes` | that long back from now |
| `on March 4`, `on 4 March`, `on 2026-03-04`, `on monday` | that day, the latest not to come |
| `this week` | from Monday 00:00 to now |

A clock time without a day is today's, or yesterday's when today's is still to
come. A date without a year is the latest one not after today. Local times that a
daylight-saving change skips or repeats are resolved as Python's `zoneinfo` does
(`fold=0`: the first occurrence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        )
    )
    for m in names.split()
}
WEEKDAYS = {
    d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())
}
UNITS = {"minute": 60, "min": 60, "hour": 3600, "h": 3600, "day": 86400, "week": 604800}
#: Hours of the parts of a day: (start, end) in local hours.
PARTS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}

_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = (
    rf"(?:(\d{{4}})-(\d{{2}})-(\d{{2}})|({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?"
    rf"|(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\b|({'|'.join(WEEKDAYS)}))"
)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A range of time in UTC, `start` included, `end` excluded, and the phrase it came from."""

    start: datetime
    end: datetime
    phrase: str


def _local(day: date, hour: int, minute: int, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hour, minutes=minute)


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


def _clock(hour: str, minute: str | None, ampm: str | None) -> tuple[int, int] | None:
    h, m = int(hour), int(minute or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm == "pm" else 0)
    return (h, m) if h < 24 and m < 60 else None


def _day(groups: tuple[str | None, ...], today: date) -> date | None:
    """The day of a `_DAY` match: the latest one not after `today` when the year is not said."""
    y, mo, d, month_a, day_a, day_b, month_b, weekday = groups
    try:
        if y:
            return date(int(y), int(mo or 0), int(d or 0))
        if weekday:
            back = (today.weekday() - WEEKDAYS[weekday]) % 7
            return today - timedelta(days=back)
        month = MONTHS[(month_a or month_b or "").lower()]
        day = int(day_a or day_b or 0)
        found = date(today.year, month, day)
        return found if found <= today else date(today.year - 1, month, day)
    except (ValueError, KeyError):
        return None


def find_range(question: str, now: datetime, zone: tzinfo) -> TimeRange | None:
    """The range of the first time phrase of `question`, or None when it has none (or
    an impossible one, like "on February 30")."""
    q = " ".join(question.lower().split())
    local_now = now.astimezone(zone)
    today = local_now.date()

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return _utc(_local(day, hour, minute, zone))

    def latest(h: int, m: int) -> date:
        return today if _local(today, h, m, zone) <= local_now else today - timedelta(days=1)

    candidates: list[tuple[int, TimeRange]] = []

    def add(match: re.Match[str], start: datetime, end: datetime) -> None:
        candidates.append((match.start(), TimeRange(start, min(end, now), match.group(0))))

    for m in re.finditer(r"\blast night\b", q):
        add(m, at(today - timedelta(days=1), 18), at(today, 8))
    for m in re.finditer(r"\btonight\b", q):
        add(m, at(today, 18), at(today + timedelta(days=1), 8))
    for m in re.finditer(r"\bthis (morning|afternoon|evening)\b", q):
        a, b = PARTS[m.group(1)]
        add(m, at(today, a), at(today, 0) + timedelta(hours=b))
    for m in re.finditer(r"\bthis week\b", q):
        add(m, at(today - timedelta(days=today.weekday()), 0), now)
    for m in re.finditer(
        r"\b(?:in the |over the )?(?:last|past)\s+(?:(\d+)\s+)?(minute|min|hour|h|day|week)s?\b", q
    ):
        n = int(m.group(1) or 1)
        add(m, now - timedelta(seconds=n * UNITS[m.group(2)]), now)
    for m in re.finditer(rf"\b(?:between|from)\s+{_CLOCK}\s+(?:and|to|-)\s+{_CLOCK}", q):
        a, b = _clock(*m.group(1, 2, 3)), _clock(*m.group(4, 5, 6))
        if a is None or b is None:
            continue
        end_day = latest(*b)
        start_day = end_day if a <= b else end_day - timedelta(days=1)
        add(m, at(start_day, *a), at(end_day, *b))
    for m in re.finditer(rf"\bsince\s+(?:{_DAY}|yesterday|{_CLOCK})", q):
        text = m.group(0)
        if text.endswith("yesterday"):
            add(m, at(today - timedelta(days=1), 0), now)
            continue
        day = _day(m.groups()[:8], today)
        if day is not None:
            add(m, at(day, 0), now)
            continue
        hm = _clock(*m.groups()[8:11])
        if hm is not None:
            add(m, at(latest(*hm), *hm), now)
    for m in re.finditer(rf"\b(?:on\s+)?{_DAY}", q):
        if q[max(0, m.start() - 6) : m.start()].strip().endswith("since"):
            continue
        day = _day(m.groups(), today)
        if day is not None:
            add(m, at(day, 0), at(day + timedelta(days=1), 0))
    for m in re.finditer(r"\byesterday\b", q):
        if not q[: m.start()].rstrip().endswith("since"):
            add(m, at(today - timedelta(days=1), 0), at(today, 0))
    for m in re.finditer(r"\btoday\b", q):
        add(m, at(today, 0), now)
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], -len(c[1].phrase)))[1]
