"""`backtest`, `ingest` and `mine` on several files: rotated, compressed, a directory or a
glob, oldest first; `--timezone` and `--year` for stamps that carry no zone or year.

The files are laid out as Debian's and Ubuntu's logrotate rule for rsyslog leaves
them (`rotate 7`, `delaycompress`, `compress`: `syslog`, `syslog.1`, `syslog.2.gz`,
...), with real rsyslog lines of an Ubuntu machine.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from rotated_support import day_lines, rotated_syslog
from sqlalchemy import select
from typer.testing import CliRunner

from logvigil.cli import app, kit
from logvigil.core.events import LogEvent
from logvigil.store.schema import Event
from migrations.apply import open_engine

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory.yaml"
runner = CliRunner()


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    return rotated_syslog(tmp_path)


def run(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"traceback: {result.exception!r}\n{result.output}"
    return result


def stored(db: str) -> list[tuple[datetime, str, str]]:
    engine = open_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Event.ts, Event.host, Event.message).order_by(Event.id))
            return [(ts, host, message) for ts, host, message in rows]
    finally:
        engine.dispose()


DAYS = [26, 26, 27, 27, 28, 28, 29, 29]


def test_ingest_reads_a_rotated_directory_oldest_first(logdir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lv.db'}"
    result = run("ingest", str(logdir), "--format", "syslog", "--year", "2026", "--db", db)
    assert result.exit_code == 0, result.output
    rows = stored(db)
    assert [ts.day for ts, _, _ in rows] == DAYS
    assert rows[0][0] == datetime(2026, 11, 26, 0, 0, 1, tzinfo=UTC)
    assert {host for _, host, _ in rows} == {"web-01"}
    assert "reading" not in result.output  # no progress bar when not on a terminal


def test_backtest_reads_a_glob_oldest_first(logdir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bt.db'}"
    result = run(
        "backtest", f"{logdir}/syslog*", "--format", "syslog", "--year", "2026",
        "--inventory", str(INVENTORY), "--db", db,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2026-11-26 00:00 to 2026-11-29 06:25 UTC" in result.output
    assert "8 lines, 8 events" in result.output
    assert [ts.day for ts, _, _ in stored(db)] == DAYS


def test_mine_reads_several_paths_in_rotation_order(logdir: Path) -> None:
    # the order a shell expands /var/log/syslog* in: the live file first
    shell = [str(logdir / n) for n in ("syslog", "syslog.1", "syslog.2.gz", "syslog.3.gz")]
    result = run("mine", *shell, "--format", "syslog", "--jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(Path(r["file"]).name, r["line"]) for r in rows] == [
        ("syslog.3.gz", 1), ("syslog.3.gz", 2), ("syslog.2.gz", 1), ("syslog.2.gz", 2),
        ("syslog.1", 1), ("syslog.1", 2), ("syslog", 1), ("syslog", 2),
    ]  # fmt: skip


def test_a_corrupt_gz_is_named_counted_and_the_rest_is_kept(logdir: Path, tmp_path: Path) -> None:
    (logdir / "syslog.3.gz").write_bytes(day_lines("Nov 26", 1003))  # plain text, .gz name
    db = f"sqlite:///{tmp_path / 'lv.db'}"
    result = run("ingest", str(logdir), "--format", "syslog", "--year", "2026", "--db", db)
    assert result.exit_code == 1, result.output
    assert f"{logdir / 'syslog.3.gz'}:1: not a gzip file" in result.output
    assert [ts.day for ts, _, _ in stored(db)] == DAYS[2:]


def test_standard_input_mixed_with_files_is_a_usage_error(logdir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lv.db'}"
    result = run("ingest", "-", str(logdir / "syslog"), "--db", db, input="")
    assert result.exit_code == 2
    assert "error: -: standard input cannot be mixed with files: give - alone" in result.output


def test_timezone_places_a_cest_line_two_hours_earlier(tmp_path: Path) -> None:
    # `journalctl -o short` saved on a machine in Berlin, in summer (CEST, UTC+2)
    log = tmp_path / "db-01.log"
    log.write_text("Jul 14 10:00:00 db-01 postgres[812]: LOG:  checkpoint starting: time\n")
    utc_db, berlin_db = (f"sqlite:///{tmp_path / n}" for n in ("utc.db", "berlin.db"))
    args = ("ingest", str(log), "--format", "syslog", "--year", "2026")
    assert run(*args, "--db", utc_db).exit_code == 0
    assert run(*args, "--timezone", "Europe/Berlin", "--db", berlin_db).exit_code == 0
    assert stored(utc_db)[0][0] == datetime(2026, 7, 14, 10, 0, tzinfo=UTC)  # default: UTC
    assert stored(berlin_db)[0][0] == datetime(2026, 7, 14, 8, 0, tzinfo=UTC)


def test_an_unknown_zone_is_a_usage_error(logdir: Path) -> None:
    result = run("mine", str(logdir), "--timezone", "CEST")
    assert result.exit_code == 2
    assert "--timezone: unknown time zone 'CEST': give an IANA name" in result.output
    assert "Traceback" not in result.output


def test_year_sets_the_year_of_rfc3164_lines(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    log.write_bytes(day_lines("Dec 31", 1001) + day_lines("Jan  1", 1000))
    db = f"sqlite:///{tmp_path / 'lv.db'}"
    assert (
        run("ingest", str(log), "--format", "syslog", "--year", "2016", "--db", db).exit_code == 0
    )
    assert [(ts.year, ts.month) for ts, _, _ in stored(db)] == [
        (2016, 12), (2016, 12), (2017, 1), (2017, 1),
    ]  # fmt: skip
    result = run("ingest", str(log), "--year", "1899", "--db", db)
    assert result.exit_code == 2 and "--year 1899: give a year from 1970 to 2200" in result.output


def test_the_progress_bar_follows_several_files_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(kit, "err", Console(file=screen, force_terminal=True, width=100))
    for n, day in ((2, "Nov 27"), (1, "Nov 28")):
        lines = b"".join(day_lines(day, pid) for pid in range(3000))
        (tmp_path / f"syslog.{n}.gz").write_bytes(gzip.compress(lines))
    (tmp_path / "syslog").write_bytes(b"".join(day_lines("Nov 29", pid) for pid in range(3000)))
    with (
        kit.opened([str(tmp_path)], "syslog", year=2026) as reader,
        kit.progress_bar(reader) as progress,
    ):
        items = list(kit.read_input(reader, progress))
        (task,) = progress.tasks
        assert task.total == reader.size == sum(p.stat().st_size for p in tmp_path.iterdir())
        assert task.completed == reader.size
        assert task.description == f"reading {tmp_path / 'syslog'}"
        # lines read and the log time reached: the last line is cron.daily on Nov 29
        assert task.fields["lines"] == 18_000
        assert task.fields["reached"] == "log time 2026-11-29 06:25"
    assert len(items) == 18_000 and all(isinstance(e, LogEvent) for e in items)
    assert "reading" in screen.getvalue() and "lines" in screen.getvalue()
