"""Several inputs at once: rotated and compressed files read oldest first as one log.

The names are logrotate's (logrotate(8)): `rotate N` keeps `name.1` ... `name.N`,
a higher number being older; `compress` gzips them (`compressext` `.gz`) and
`delaycompress` leaves `name.1` plain, so Debian's and Ubuntu's rsyslog rule
(`/etc/logrotate.d/rsyslog`: `rotate 7`, `delaycompress`, `compress`) leaves
`syslog`, `syslog.1`, `syslog.2.gz` ... `syslog.7.gz`. With `dateext` (the
default in Fedora's and RHEL's logrotate.conf) the suffix is `dateformat`,
`-%Y%m%d` by default, which logrotate itself sorts lexically to find the oldest.
The lines are real rsyslog lines of an Ubuntu machine: the HUP rsyslog logs when
logrotate's postrotate reopens its files, and cron's daily run.
"""

from __future__ import annotations

import bz2
import gc
import gzip
import lzma
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rotated_support import CRON, day_lines, rotated_syslog

from logvigil.core.events import LogEvent, Rejected
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.inputs import (
    InputError,
    InputReader,
    expand_inputs,
    live_name,
    log_host,
    open_input,
    time_zone,
)


def events(paths: list[str], year: int = 2026) -> list[LogEvent | Rejected]:
    return list(InputReader(expand_inputs(paths), "syslog", year=year))


def names(paths: list[str]) -> list[str]:
    return [Path(p).name for p in paths]


OLDEST_FIRST = ["syslog.3.gz", "syslog.2.gz", "syslog.1", "syslog"]


def test_a_directory_is_read_oldest_first(tmp_path: Path) -> None:
    log = rotated_syslog(tmp_path)
    assert names(expand_inputs([str(log)])) == OLDEST_FIRST
    items = events([str(log)])
    assert all(isinstance(e, LogEvent) for e in items)
    stamps = [e.ts for e in items if isinstance(e, LogEvent)]
    assert stamps == sorted(stamps)
    assert stamps[0] == datetime(2026, 11, 26, 0, 0, 1, tzinfo=UTC)
    assert stamps[-1] == datetime(2026, 11, 29, 6, 25, 1, tzinfo=UTC)
    pids = [e.attributes.get("pid") for e in items if isinstance(e, LogEvent)]
    assert [p for p in pids if p] == ["1003", "1002", "1001", "1000"]


def test_a_glob_and_several_paths_give_the_same_order(tmp_path: Path) -> None:
    log = rotated_syslog(tmp_path)
    assert names(expand_inputs([f"{log}/syslog*"])) == OLDEST_FIRST
    # what the shell passes for /var/log/syslog*: alphabetical, the live file first
    shell = [str(log / n) for n in ("syslog", "syslog.1", "syslog.2.gz", "syslog.3.gz")]
    assert names(expand_inputs(shell)) == OLDEST_FIRST
    assert [e.ts for e in events(shell)] == [e.ts for e in events([str(log)])]


def test_numbers_sort_as_numbers_and_dated_names_by_date(tmp_path: Path) -> None:
    for n in (1, 2, 9, 10, 11):
        (tmp_path / (f"syslog.{n}.gz" if n > 1 else "syslog.1")).write_bytes(b"")
    assert names(expand_inputs([str(tmp_path)])) == [
        "syslog.11.gz", "syslog.10.gz", "syslog.9.gz", "syslog.2.gz", "syslog.1",
    ]  # fmt: skip
    dated = tmp_path / "rhel"
    dated.mkdir()
    for name in ("messages", "messages-20261206.gz", "messages-20261129.gz", "messages-20261122"):
        (dated / name).write_bytes(b"")
    assert names(expand_inputs([str(dated)])) == [
        "messages-20261122", "messages-20261129.gz", "messages-20261206.gz", "messages",
    ]  # fmt: skip


def test_a_directory_groups_its_logs_each_in_rotation_order(tmp_path: Path) -> None:
    for name in ("syslog", "auth.log.1", "syslog.2.gz", "auth.log", "kern.log", ".hidden"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "journal").mkdir()  # not read: not recursive
    assert names(expand_inputs([str(tmp_path)])) == [
        "auth.log.1", "auth.log", "kern.log", "syslog.2.gz", "syslog",
    ]  # fmt: skip


def test_rotated_files_of_one_log_have_the_live_files_host(tmp_path: Path) -> None:
    for rotated in ("syslog.2.gz", "syslog.1", "syslog-20261129.gz", "syslog.xz"):
        assert live_name(f"/var/log/{rotated}") == "/var/log/syslog"
        assert log_host(f"/var/log/{rotated}") == log_host("/var/log/syslog") == "syslog"
    assert log_host("/var/log/postgresql/postgresql-16-main.log.2.gz") == "postgresql-16-main"
    # PostgreSQL's own log (Debian's log_line_prefix '%m [%p] ') names no host;
    # postgresql-common's logrotate rule rotates it weekly with delaycompress.
    pg = tmp_path / "postgresql"
    pg.mkdir()
    line = "2026-11-{:02d} 06:25:01.123 UTC [812] LOG:  checkpoint starting: time\n"
    (pg / "postgresql-16-main.log.2.gz").write_bytes(gzip.compress(line.format(20).encode()))
    (pg / "postgresql-16-main.log.1").write_text(line.format(27))
    (pg / "postgresql-16-main.log").write_text(line.format(29))
    items = list(InputReader(expand_inputs([str(pg)]), "raw"))
    assert {e.host for e in items if isinstance(e, LogEvent)} == {"postgresql-16-main"}
    # Oldest first, each line at the time it starts with (PostgreSQL's `%m`, in UTC).
    assert [(e.ts.day, e.message) for e in items if isinstance(e, LogEvent)] == [
        (day, "[812] LOG:  checkpoint starting: time") for day in (20, 27, 29)
    ]


def test_bz2_and_xz_are_read_like_gz(tmp_path: Path) -> None:
    (tmp_path / "syslog.3.xz").write_bytes(lzma.compress(day_lines("Nov 26", 1003)))
    (tmp_path / "syslog.2.bz2").write_bytes(bz2.compress(day_lines("Nov 27", 1002)))
    (tmp_path / "syslog.1.gz").write_bytes(gzip.compress(day_lines("Nov 28", 1001)))
    items = events([str(tmp_path)])
    assert [e.ts.day for e in items if isinstance(e, LogEvent)] == [26, 26, 27, 27, 28, 28]


def test_a_line_is_never_joined_across_files(tmp_path: Path) -> None:
    # a file cut without its last newline (a crash before rsyslog's flush) still ends it
    (tmp_path / "syslog.1").write_bytes(day_lines("Nov 28", 1001).rstrip(b"\n"))
    (tmp_path / "syslog").write_bytes(day_lines("Nov 29", 1000))
    items = events([str(tmp_path)])
    assert len(items) == 4 and all(isinstance(e, LogEvent) for e in items)
    assert items[1].message.endswith("/etc/cron.daily; })")  # type: ignore[union-attr]
    assert items[2].message.endswith("rsyslogd was HUPed")  # type: ignore[union-attr]


def test_a_corrupt_gz_among_good_files_is_one_rejection_naming_it(tmp_path: Path) -> None:
    log = rotated_syslog(tmp_path)
    # a plain-text file that got a .gz name: what gzip(1) calls "not in gzip format"
    (log / "syslog.3.gz").write_bytes(day_lines("Nov 26", 1003))
    items = events([str(log)])
    rejected = [e for e in items if isinstance(e, Rejected)]
    assert [(r.source, r.line_no, r.reason) for r in rejected] == [
        (str(log / "syslog.3.gz"), 1, "not a gzip file")
    ]
    assert rejected[0].describe() == f"{log / 'syslog.3.gz'}:1: not a gzip file"
    assert len([e for e in items if isinstance(e, LogEvent)]) == 6  # the three good files


def test_a_truncated_gz_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    lines = b"".join(
        CRON.format(day=f"Nov {d:2d}", pid=1000 + i).encode()
        for i, d in enumerate(range(1, 29))
        for _ in range(300)
    )
    packed = gzip.compress(lines)
    (tmp_path / "syslog.2.gz").write_bytes(packed[: len(packed) // 2])  # a copy cut short
    (tmp_path / "syslog.1").write_bytes(day_lines("Nov 29", 999))
    reader = InputReader(expand_inputs([str(tmp_path)]), "syslog", year=2026)
    items = list(reader)
    (cut,) = [e for e in items if isinstance(e, Rejected)]
    good = [e for e in items if isinstance(e, LogEvent)]
    kept = len(good) - 2
    assert 0 < kept < 28 * 300
    assert cut.source == str(tmp_path / "syslog.2.gz") and cut.line_no == kept + 1
    assert (
        cut.reason
        == "the gzip data ends early (a truncated file); the rest of the file is not read"
    )
    assert good[-1].ts == datetime(2026, 11, 29, 6, 25, 1, tzinfo=UTC)


def test_a_rejected_line_names_its_own_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "syslog.1").write_bytes(day_lines("Nov 28", 1001))
    (tmp_path / "syslog").write_bytes(day_lines("Nov 29", 1000) + b"-- No entries --\n")
    reader = InputReader(expand_inputs([str(tmp_path)]), "syslog", year=2026)
    (bad,) = [e for e in reader if isinstance(e, Rejected)]
    assert (bad.source, bad.line_no) == (str(tmp_path / "syslog"), 3)
    assert (reader.name, reader.line_no) == (str(tmp_path / "syslog"), 3)


def test_what_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "syslog").write_bytes(b"")
    with pytest.raises(InputError, match=r"nope\.log: no such file"):
        expand_inputs([str(tmp_path / "nope.log")])
    with pytest.raises(InputError, match=r"syslog\.9\*: no file matches this pattern"):
        expand_inputs([f"{tmp_path}/syslog.9*"])
    with pytest.raises(InputError, match="standard input cannot be mixed with files"):
        expand_inputs(["-", str(tmp_path / "syslog")])
    (tmp_path / "syslog.2.zst").write_bytes(b"(\xb5/\xfd")
    with pytest.raises(InputError, match=r"syslog\.2\.zst: zstd-compressed files cannot be read"):
        expand_inputs([str(tmp_path)])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no file in this directory"):
        expand_inputs([str(empty)])
    assert expand_inputs(["-"]) == ["-"]


def test_the_position_counts_compressed_bytes(tmp_path: Path) -> None:
    log = rotated_syslog(tmp_path)
    reader = InputReader(expand_inputs([str(log)]), "syslog", year=2026)
    sizes = sum(p.stat().st_size for p in log.iterdir())
    assert reader.size == sizes
    list(reader)
    assert reader.position() == sizes
    inp = open_input(log / "syslog.2.gz")
    try:
        assert inp.size == (log / "syslog.2.gz").stat().st_size
        list(inp.lines())
        assert inp.position() == inp.size
    finally:
        inp.close()


# --------------------------------------------------------------------------- --year, --timezone


def bsd(line: str, **options) -> LogEvent:
    (item,) = read_events([line.encode()], "syslog", ReadOptions(**options))
    assert isinstance(item, LogEvent), item
    return item


def test_year_fixes_the_year_of_an_rfc3164_line() -> None:
    # read on 2026-03-02, this 2016 line would be placed in 2025 without --year
    line = "Jun  9 06:06:20 combo syslogd 1.4.1: restart."  # Loghub's Linux log (2005)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert bsd(line, default_time=now).ts.year == 2025
    assert bsd(line, default_time=now, year=2016).ts == datetime(2016, 6, 9, 6, 6, 20, tzinfo=UTC)


def test_year_rolls_over_at_new_year_across_rotated_files(tmp_path: Path) -> None:
    (tmp_path / "syslog.1").write_bytes(day_lines("Dec 31", 1001))
    (tmp_path / "syslog").write_bytes(day_lines("Jan  1", 1000) + day_lines("Jan  2", 999))
    stamps = [e.ts for e in events([str(tmp_path)], year=2016) if isinstance(e, LogEvent)]
    assert [(t.year, t.month, t.day) for t in stamps] == [
        (2016, 12, 31), (2016, 12, 31), (2017, 1, 1), (2017, 1, 1), (2017, 1, 2), (2017, 1, 2),
    ]  # fmt: skip


def test_a_late_december_line_after_new_year_stays_in_its_year() -> None:
    lines = [
        CRON.format(day="Dec 31", pid=1).replace("06:25:01", "23:59:59"),
        CRON.format(day="Jan  1", pid=2).replace("06:25:01", "00:00:00"),
        CRON.format(day="Dec 31", pid=3).replace("06:25:01", "23:59:58"),  # written late
        CRON.format(day="Jan  1", pid=4).replace("06:25:01", "00:00:01"),
    ]
    items = list(read_events([x.encode() for x in lines], "syslog", ReadOptions(year=2016)))
    assert [e.ts.year for e in items if isinstance(e, LogEvent)] == [2016, 2017, 2016, 2017]


def test_timezone_places_a_cest_line_two_hours_earlier_in_utc() -> None:
    # `journalctl -o short` on a machine in Berlin, in summer (CEST, UTC+2)
    line = "Jul 14 10:00:00 db-01 postgres[812]: LOG:  checkpoint starting: time"
    berlin = time_zone("Europe/Berlin")
    assert berlin == ZoneInfo("Europe/Berlin")
    assert bsd(line, year=2026).ts == datetime(2026, 7, 14, 10, 0, tzinfo=UTC)  # default: UTC
    assert bsd(line, year=2026, naive_tz=berlin).ts == datetime(2026, 7, 14, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["CEST", "Europe/Berln", "Europe", "", "../etc/passwd"])
def test_an_unknown_zone_is_a_clear_error(zone: str) -> None:
    with pytest.raises(ValueError, match=r"unknown time zone .*: give an IANA name"):
        time_zone(zone)


def test_several_hosts_logs_are_merged_on_one_timeline(tmp_path: Path) -> None:
    # A log server's layout (rsyslog's `/var/log/remote/%HOSTNAME%.log` template): one
    # file per host. Read one after the other, the second host's lines would all lie
    # behind the first's; merged, the hosts' lines meet in time order.
    web = "Nov 29 06:25:0{} web-01 CRON[1001]: (root) CMD (run-parts --report /etc/cron.daily)\n"
    db = "Nov 29 06:25:0{} db-01 CRON[2001]: (root) CMD (run-parts --report /etc/cron.daily)\n"
    (tmp_path / "web-01.log").write_text("".join(web.format(s) for s in (1, 3, 5)))
    (tmp_path / "db-01.log").write_text("".join(db.format(s) for s in (2, 4)) + "garbage\n")
    reader = InputReader(expand_inputs([str(tmp_path)]), "syslog", year=2026)
    seen = [(e.host, e.ts.second) if isinstance(e, LogEvent) else e.reason for e in reader]
    assert seen == [
        ("web-01", 1), ("db-01", 2), ("web-01", 3), ("db-01", 4),
        "not a syslog line (RFC 3164 or RFC 5424)",  # in its place, after db-01's line 2
        ("web-01", 5),
    ]  # fmt: skip
    assert reader.position() == sum(p.stat().st_size for p in tmp_path.iterdir())


def test_a_log_starting_without_a_stamp_still_meets_the_others_in_time(tmp_path: Path) -> None:
    # An application log rotated inside a stack trace starts with lines of no stamp,
    # read at the time of reading: they must not hold the log's stamped lines back
    # until every other log has gone by (its host's clock would seem to jump back)
    worker = "2019-04-05 00:0{}:00,000 INFO [main] o.a.h.Worker: heartbeat\n"
    (tmp_path / "a.log").write_text("".join(worker.format(m) for m in (1, 3, 5)))
    (tmp_path / "b.log").write_text(
        "\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)\n"
        + "".join(worker.format(m) for m in (2, 4))
    )
    reader = InputReader(
        expand_inputs([str(tmp_path)]), "raw", default_time=datetime(2026, 1, 1, tzinfo=UTC)
    )
    seen = [(e.source.rsplit("/", 1)[-1], e.ts.minute) for e in reader]
    assert seen == [
        ("b.log", 0), ("a.log", 1), ("b.log", 2), ("a.log", 3), ("b.log", 4), ("a.log", 5)
    ]  # fmt: skip


def test_a_reader_left_early_closes_its_files_quietly(tmp_path: Path, monkeypatch) -> None:
    # `logvigil mine ... --jsonl | head -1`: the reader is closed before its end.
    for host in ("web-01", "db-01"):
        (tmp_path / f"{host}.log").write_bytes(day_lines("Nov 29", 1000))
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    reader = InputReader(expand_inputs([str(tmp_path)]), "syslog", year=2026)
    stream = iter(reader)
    next(stream)
    reader.close()
    del stream
    gc.collect()
    assert not unraisable and not reader._current
