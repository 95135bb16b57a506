"""The year of a file's year-less (RFC 3164, `journalctl -o short`) stamps, from the
file itself, so that reading it gives the same result on any day.

A year-less stamp (`Feb  3 04:12:55`) only says the month and day. Read forwards, a
log's lines move on in time, so a month more than six months before the previous
line's (December, then January) is the next year (`GivenYear`, which `--year` uses
too). What is left is the year of the first line, and that comes from the newest
line: it was written before the reference, the moment the file was last changed
(its modification time), so its year is the latest one that does not put it after
the reference (one day of slack for the zone of the stamps). The first line's year is
that year less the New Years passed on the way:

    Jun 14 15:16:01 combo sshd(pam_unix)[19939]: ...   first line: 2005
    ...
    Jan  1 04:02:12 combo ...                          a wrap: 2006
    Feb 26 17:52:03 combo ...                          newest line; mtime 2006-03-02

This needs one pass over the file before it is read (`first_year`), months only.
A live source has no such pass: there each line takes the latest year that does not
put it in the future of the wall clock (`syslog.bsd_year`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from logvigil.ingest.formats._common import MONTHS, GivenYear

_MONTHS = {name.encode(): i for name, i in MONTHS.items()}
#: A year-less stamp at the start of a line, after an optional `<PRI>`.
_STAMP = re.compile(rb"(?:<\d{1,3}>)?(" + b"|".join(_MONTHS) + rb") {1,2}(\d{1,2}) \d\d:\d\d:\d\d")
#: The zones of the world are within this of UTC: the slack between a stamp's local
#: date and the reference's.
_ZONE_SLACK = timedelta(days=1)


def stamps(lines: Iterable[bytes]) -> Iterator[tuple[int, int]]:
    """(month, day) of each line that starts with a year-less stamp, in order."""
    match = _STAMP.match
    for line in lines:
        m = match(line)
        if m is not None:
            day = int(m.group(2))
            if 1 <= day <= 31:
                yield _MONTHS[m.group(1)], day


def first_year(months_days: Iterable[tuple[int, int]], reference: datetime) -> int | None:
    """The year of the first of `months_days` (a file's stamps in order), such that the
    newest is not after `reference`; None when there is no stamp."""
    run = GivenYear(0)
    newest: tuple[int, int, int] | None = None
    for month, day in months_days:
        stamp = (run.of(month), month, day)
        if newest is None or stamp > newest:
            newest = stamp
    if newest is None:
        return None
    offset, month, day = newest
    latest = (reference + _ZONE_SLACK).date()
    for year in range(latest.year, latest.year - 9, -1):  # 29 February: a leap year
        try:
            if date(year, month, day) <= latest:
                return year - offset
        except ValueError:
            continue
    return None


def bsd_year(month: int, day: int, reference: datetime) -> int | None:
    """Return the year of a yearless RFC 3164 date, or None if it exists in no nearby year.

    The date is placed in the 365 days ending one month after `reference`: a
    date more than ~31 days in the future of the reference belongs to the
    previous year (a December line read in January), one more than ~334 days
    in its past to the next year.
    """
    upper = reference + timedelta(days=31)
    lower = upper - timedelta(days=365)
    for year in (reference.year, reference.year - 1, reference.year + 1):
        try:
            candidate = reference.replace(year=year, month=month, day=day)
        except ValueError:  # 29 February in a common year
            continue
        if lower < candidate <= upper:
            return year
    return None
