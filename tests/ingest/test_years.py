"""The year of year-less syslog stamps comes from the file (its newest line is not after
its modification time, one year more at each New Year read forwards), never from the
day the file is read."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time

from logvigil.core.events import LogEvent
from logvigil.ingest.formats.years import first_year, stamps
from logvigil.ingest.inputs import InputReader, expand_inputs

# Loghub's Linux log (a RedHat machine, 2005): June to the next February.
SPAN = [
    b"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown\n",
    b"Dec 31 22:19:05 combo su(pam_unix)[10583]: session opened for user news by (uid=0)\n",
    b"Jan  1 04:02:12 combo cups: cupsd shutdown succeeded\n",
    b"Feb 26 17:52:03 combo syslogd 1.4.1: restart.\n",
]


def at(y: int, mo: int, d: int) -> datetime:
    return datetime(y, mo, d, 12, tzinfo=UTC)


def test_the_newest_line_is_not_after_the_reference_and_new_year_counts() -> None:
    assert list(stamps(SPAN)) == [(6, 14), (12, 31), (1, 1), (2, 26)]
    assert first_year(stamps(SPAN), at(2006, 3, 2)) == 2005
    # Modified again (copied, touched) a year later: the newest line is still the
    # latest Feb 26 before it, so nothing moves.
    assert first_year(stamps(SPAN), at(2007, 1, 5)) == 2005
    assert first_year(stamps(SPAN), at(2007, 2, 27)) == 2006
    assert first_year(stamps(SPAN[:2]), at(2006, 3, 2)) == 2005


def test_a_line_written_on_the_references_day_in_a_zone_ahead_of_utc_stays_in_its_year() -> None:
    # 00:30 on Nov 30 in Tokyo is Nov 29 in UTC: the stamp's date is a day after mtime's.
    line = [b"Nov 30 00:30:01 pi CRON[812]: (root) CMD (debian-sa1 1 1)\n"]
    assert first_year(stamps(line), datetime(2026, 11, 29, 15, 30, tzinfo=UTC)) == 2026


def test_29_february_goes_to_a_leap_year_and_no_stamp_gives_none() -> None:
    line = [b"Feb 29 03:00:00 box kernel: [    0.000000] Linux version 6.1.0\n"]
    assert first_year(stamps(line), at(2026, 11, 30)) == 2024
    assert first_year(stamps([b'{"ts": "2026-01-01T00:00:00Z"}\n']), at(2026, 1, 2)) is None


@pytest.mark.parametrize("today", ["2026-11-30", "2031-06-01"])
def test_a_file_reads_the_same_on_any_day(tmp_path: Path, today: str) -> None:
    log = tmp_path / "messages"
    log.write_bytes(b"".join(SPAN))
    mtime = at(2006, 3, 2).timestamp()
    os.utime(log, (mtime, mtime))
    with freeze_time(today):
        events = [e for e in InputReader([str(log)], "syslog") if isinstance(e, LogEvent)]
    assert [e.ts.date().isoformat() for e in events] == [
        "2005-06-14",
        "2005-12-31",
        "2006-01-01",
        "2006-02-26",
    ]


def test_rotated_files_share_one_year_from_the_newest(tmp_path: Path) -> None:
    (tmp_path / "syslog.1").write_bytes(b"".join(SPAN[:2]))
    (tmp_path / "syslog").write_bytes(b"".join(SPAN[2:]))
    for name in ("syslog.1", "syslog"):
        os.utime(tmp_path / name, (at(2006, 3, 2).timestamp(),) * 2)
    events = [
        e for e in InputReader(expand_inputs([str(tmp_path)]), "syslog") if isinstance(e, LogEvent)
    ]
    assert [e.ts.year for e in events] == [2005, 2005, 2006, 2006]


def test_the_operators_year_wins(tmp_path: Path) -> None:
    log = tmp_path / "messages"
    log.write_bytes(b"".join(SPAN))
    events = [e for e in InputReader([str(log)], "syslog", year=2016) if isinstance(e, LogEvent)]
    assert [e.ts.year for e in events] == [2016, 2016, 2017, 2017]
