"""A source that reads the wrong file (binary, not text) says so in its health record,
which `status` shows, instead of only counting rejections nobody reads."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from logvigil.app.sources import SourcePool, mostly_binary
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseFilter
from logvigil.ingest.sources.file import FileSourceConfig, FileTail
from migrations.apply import open_engine

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def health_error(tmp_path: Path, data: bytes) -> str | None:
    log = tmp_path / "app.log"
    log.write_bytes(data)
    engine = open_engine(f"sqlite:///{tmp_path / 'lv.db'}")
    spec = FileSourceConfig(type="file", path=log, format="syslog", name="app")
    pool = SourcePool([FileTail.from_config(spec, None)], clock=lambda: NOW)
    ingestor = Ingestor(engine, NoiseFilter([]))
    pool.poll_all(ingestor)
    ingestor.flush()
    (record,) = pool.health("test:1", NOW)
    return record.error


def test_a_source_reading_random_bytes_is_flagged_as_mostly_binary(tmp_path: Path) -> None:
    junk = random.Random(7).randbytes(64 * 1024)  # a database file, /dev/urandom...
    error = health_error(tmp_path, junk)
    assert error is not None and error.startswith("mostly binary:")


def test_a_text_source_is_not_flagged(tmp_path: Path) -> None:
    text = b"".join(
        b"Mar  2 11:%02d:01 web-01 CRON[%d]: (root) CMD (debian-sa1 1 1)\n" % (m, 100 + m)
        for m in range(50)
    )
    assert health_error(tmp_path, text) is None


def test_a_few_binary_lines_in_a_small_batch_are_not_a_verdict() -> None:
    assert mostly_binary(5, 10) is None  # too few lines to judge
    assert mostly_binary(10, 40) is None  # a quarter
    assert mostly_binary(30, 40) is not None
