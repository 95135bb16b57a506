"""Daemon sources polled into a real SQLite store, for the tests of what they read."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from logvigil.app.settings import load_settings
from logvigil.app.sources import SourcePool, build_sources
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseFilter
from migrations.apply import open_engine

#: The daemon's clock while it polls (sources' health records; no line depends on it).
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def polled_rows(pool: SourcePool, tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Poll `pool` until a poll finds nothing more (at most 5 s) into a new store under
    `tmp_path`, without noise rules; `sql`'s rows of that store."""
    engine = open_engine(f"sqlite:///{tmp_path / 'lv.db'}")
    try:
        ingestor = Ingestor(engine, NoiseFilter([]))
        deadline = time.monotonic() + 5
        while not pool.poll_all(ingestor) and time.monotonic() < deadline:
            pass
        ingestor.flush()
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def polled_file_source(
    tmp_path: Path, log: Path, fmt: str, sql: str, **options: str | None
) -> list[tuple[Any, ...]]:
    """A `type: file` source of `log` in `fmt`, with `options` (those not None) in its
    config section as the daemon reads it, polled as `polled_rows` does."""
    extra = "".join(f"\n    {key}: {value}" for key, value in options.items() if value)
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"sources:\n  - type: file\n    path: {log}\n    format: {fmt}{extra}\n")
    settings = load_settings(cfg, environ={})
    pool = SourcePool(build_sources(settings.sources, {}), clock=lambda: NOW)
    try:
        return polled_rows(pool, tmp_path, sql)
    finally:
        pool.close()
