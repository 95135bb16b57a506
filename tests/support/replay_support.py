"""Replaying a relay's syslog lines for the backtest tests that compare coalesced ticks
with minute-by-minute ones: every finding of every tick, and the detector state."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from logvigil.app.backtest import BacktestResult, run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.ingest.formats import input_options


def at(t: datetime, host: str, tag: str, message: str) -> str:
    """A relay's RFC 3164 line of `host` at `t`."""
    return f"{t:%b} {t.day:2d} {t:%H:%M:%S} {host} {tag}: {message}"


def replay(
    lines: list[bytes], db: Path, every_minute: bool, read_at: datetime
) -> tuple[BacktestResult, list[tuple[str, ...]]]:
    """The replay of `lines` into `db` (read at `read_at`, no inventory) and every
    finding of every tick, with the tick's time."""
    found: list[tuple[str, ...]] = []
    result = run_backtest(
        lines,
        fmt="syslog",
        inventory=empty_inventory(),
        db_url=f"sqlite:///{db}",
        read_options=input_options("relay.log", default_time=read_at),
        on_tick=lambda tick: found.extend(
            (str(f.at), str(f.started_at), f.detector, f.summary) for f in tick.findings
        ),
        every_minute=every_minute,
    )
    return result, found


def detector_state(db: Path) -> dict[tuple[str, str], object]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT detector, key, version, state FROM detector_state")
        return {(d, k): (v, json.loads(s)) for d, k, v, s in rows}
