"""`service:` of a file or stdin source and `--service` of backtest, ingest and mine: the
program of lines that name none (an application's own log file), as inventory.yaml
names it; `unknown` when not set, as before. Lines that name their program keep it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from source_support import polled_file_source, polled_rows
from sqlalchemy import text
from typer.testing import CliRunner

from logvigil.app.settings import load_settings
from logvigil.app.sources import SourcePool
from logvigil.cli import app
from logvigil.core.yamlfile import ConfigError
from logvigil.ingest.sources import StdinLines
from migrations.apply import open_engine

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
# PostgreSQL's own log file (Debian's log_line_prefix '%m [%p] '); JSONL events with
# and without their program.
PG_LINE = "2026-03-04 10:00:00.123 UTC [812] LOG:  checkpoint starting: time\n"
JSONL = (
    '{"ts": "2026-03-04T10:00:01Z", "service": "cron", "message": "(root) CMD (run-parts)"}\n'
    '{"ts": "2026-03-04T10:00:02Z", "message": "checkpoint starting: time"}\n'
)
SERVICE_AND_MESSAGE = "SELECT service, message FROM events ORDER BY id"
runner = CliRunner()


def stored(db: str) -> list[tuple[str, str]]:
    engine = open_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(SERVICE_AND_MESSAGE))
            return [(service, message) for service, message in rows]
    finally:
        engine.dispose()


@pytest.mark.parametrize(("service", "expected"), [("postgres", "postgres"), (None, "unknown")])
def test_a_file_sources_service_names_the_program_of_its_lines(
    tmp_path: Path, service: str | None, expected: str
) -> None:
    log = tmp_path / "postgresql-16-main.log"
    log.write_text(PG_LINE)
    rows = polled_file_source(tmp_path, log, "raw", SERVICE_AND_MESSAGE, service=service)
    assert rows == [(expected, "[812] LOG:  checkpoint starting: time")]


def test_a_stdin_sources_service_names_only_lines_that_name_none(tmp_path: Path) -> None:
    stream = io.BytesIO(JSONL.encode())
    pool = SourcePool([StdinLines("auto", stream=stream, service="postgres")], clock=lambda: NOW)
    try:
        rows = polled_rows(pool, tmp_path, SERVICE_AND_MESSAGE)
    finally:
        pool.close()
    assert [service for service, _ in rows] == ["cron", "postgres"]


@pytest.mark.parametrize("bad", ["my app", "-postgres", "x" * 201, "pg/16"])
def test_an_invalid_service_in_the_config_names_file_line_and_field(
    tmp_path: Path, bad: str
) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"sources:\n  - type: stdin\n    format: raw\n    service: '{bad}'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    (problem,) = err.value.problems
    assert str(problem).startswith(f"{cfg}:4: sources[0].service: ")
    assert "name" in str(problem)


@pytest.mark.parametrize("command", ["ingest", "backtest"])
def test_service_option_names_the_program_of_lines_that_name_none(
    tmp_path: Path, command: str
) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text(JSONL)
    db = f"sqlite:///{tmp_path / 'lv.db'}"
    result = runner.invoke(app, [command, str(log), "--service", "postgres", "--db", db])
    assert result.exit_code == 0, result.output
    assert [service for service, _ in stored(db)] == ["cron", "postgres"]


@pytest.mark.parametrize("command", ["ingest", "backtest", "mine"])
def test_an_invalid_service_option_is_a_usage_error(tmp_path: Path, command: str) -> None:
    log = tmp_path / "app.log"
    log.write_text(PG_LINE)
    result = runner.invoke(app, [command, str(log), "--service", "my app"])
    assert result.exit_code == 2
    assert "--service 'my app': invalid name: use letters, digits" in result.output
    assert "Traceback" not in result.output
