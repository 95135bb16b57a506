"""`timezone:` of a file or stdin source: the zone of its timestamps written without an
offset (RFC 3164 lines as rsyslog's traditional file format writes them, in the
machine's local time); UTC when not set, as before."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from logvigil.app.settings import load_settings
from logvigil.app.sources import SourcePool, build_sources
from logvigil.core.yamlfile import ConfigError
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseFilter
from logvigil.ingest.sources import StdinLines
from migrations.apply import open_engine

NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
# rsyslog's RSYSLOG_TraditionalFileFormat on a machine in Berlin, in summer (CEST)
LINE = "Jul 14 10:00:00 db-01 postgres[812]: LOG:  checkpoint starting: time\n"


def stored_times(pool: SourcePool, tmp_path: Path) -> list[datetime]:
    engine = open_engine(f"sqlite:///{tmp_path / 'lv.db'}")
    ingestor = Ingestor(engine, NoiseFilter([]))
    deadline = time.monotonic() + 5
    while not pool.poll_all(ingestor) and time.monotonic() < deadline:
        pass
    ingestor.flush()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT ts FROM events ORDER BY id")).scalars().all()
    engine.dispose()
    return [datetime.fromisoformat(str(r)).replace(tzinfo=UTC) for r in rows]


@pytest.mark.parametrize(("zone", "hour"), [("Europe/Berlin", 8), (None, 10)])
def test_a_file_sources_timezone_places_its_lines(
    tmp_path: Path, zone: str | None, hour: int
) -> None:
    log = tmp_path / "syslog"
    log.write_text(LINE)
    cfg = tmp_path / "logvigil.yaml"
    extra = f"\n    timezone: {zone}" if zone else ""
    cfg.write_text(f"sources:\n  - type: file\n    path: {log}\n    format: syslog{extra}\n")
    settings = load_settings(cfg, environ={})
    pool = SourcePool(build_sources(settings.sources, {}), clock=lambda: NOW)
    try:
        (ts,) = stored_times(pool, tmp_path)
    finally:
        pool.close()
    assert (ts.month, ts.day, ts.hour) == (7, 14, hour)


def test_a_stdin_sources_timezone_places_its_lines(tmp_path: Path) -> None:
    src = StdinLines("syslog", stream=io.BytesIO(LINE.encode()), timezone="Europe/Berlin")
    pool = SourcePool([src], clock=lambda: NOW)
    try:
        (ts,) = stored_times(pool, tmp_path)
    finally:
        pool.close()
    assert (ts.month, ts.day, ts.hour) == (7, 14, 8)


def test_an_unknown_zone_in_the_config_names_file_line_and_field(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("sources:\n  - type: stdin\n    format: syslog\n    timezone: CEST\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    (problem,) = err.value.problems
    assert str(problem).startswith(
        f"{cfg}:4: sources[0].timezone: unknown time zone 'CEST': give an IANA name"
    )
