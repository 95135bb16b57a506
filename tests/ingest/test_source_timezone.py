"""`timezone:` of a file or stdin source: the zone of its timestamps written without an
offset (RFC 3164 lines as rsyslog's traditional file format writes them, in the
machine's local time); UTC when not set, as before."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from source_support import polled_file_source, polled_rows

from logvigil.app.settings import load_settings
from logvigil.app.sources import SourcePool
from logvigil.core.yamlfile import ConfigError
from logvigil.ingest.sources import StdinLines

NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
# rsyslog's RSYSLOG_TraditionalFileFormat on a machine in Berlin, in summer (CEST)
LINE = "Jul 14 10:00:00 db-01 postgres[812]: LOG:  checkpoint starting: time\n"


def stored_times(pool: SourcePool, tmp_path: Path) -> list[datetime]:
    rows = polled_rows(pool, tmp_path, "SELECT ts FROM events ORDER BY id")
    return [datetime.fromisoformat(str(ts)).replace(tzinfo=UTC) for (ts,) in rows]


@pytest.mark.parametrize(("zone", "hour"), [("Europe/Berlin", 8), (None, 10)])
def test_a_file_sources_timezone_places_its_lines(
    tmp_path: Path, zone: str | None, hour: int
) -> None:
    log = tmp_path / "syslog"
    log.write_text(LINE)
    rows = polled_file_source(
        tmp_path, log, "syslog", "SELECT ts FROM events ORDER BY id", timezone=zone
    )
    ((stored,),) = rows
    ts = datetime.fromisoformat(str(stored)).replace(tzinfo=UTC)
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
