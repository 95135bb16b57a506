"""Timestamps without an offset are read in the machine's zone unless told otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.ingest import inputs
from logvigil.ingest.inputs import machine_zone

TOKYO = Path("/usr/share/zoneinfo/Asia/Tokyo")


def test_tz_names_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert machine_zone() == ZoneInfo("Europe/Berlin")
    monkeypatch.setenv("TZ", ":America/New_York")  # glibc's "read this file" prefix
    assert machine_zone() == ZoneInfo("America/New_York")


def test_without_tz_the_localtime_file_decides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not TOKYO.exists():
        pytest.skip("no tzdata files on this machine")
    localtime = tmp_path / "localtime"
    localtime.write_bytes(TOKYO.read_bytes())
    monkeypatch.delenv("TZ")
    monkeypatch.setattr(inputs, "LOCALTIME", localtime)
    offset = datetime(2026, 7, 1, 12, tzinfo=machine_zone()).utcoffset()
    assert offset is not None and offset.total_seconds() == 9 * 3600


def test_a_posix_rule_without_a_zone_file_falls_back_to_utc(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")
    monkeypatch.setattr(inputs, "LOCALTIME", tmp_path / "missing")
    assert machine_zone() is UTC


def test_a_file_without_timezone_is_read_in_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    log = tmp_path / "syslog"
    log.write_text("Jul  1 12:00:00 pi CRON[812]: (root) CMD (debian-sa1 1 1)\n")
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(app, ["ingest", str(log), "--year", "2026", "--db", db])
    assert result.exit_code == 0, result.output
    stats = json.loads(CliRunner().invoke(app, ["stats", "--db", db, "--json"]).stdout)
    assert stats["oldest_event"].startswith("2026-07-01T10:00:00")  # 12:00 CEST
