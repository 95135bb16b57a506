"""Helpers of the primitive tests on real lines (no tests here): syslog text replayed
through the whole daemon code (`run_backtest`), the findings of every tick."""

from __future__ import annotations

from datetime import UTC, datetime

from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.core.findings import Finding
from logvigil.ingest.formats import input_options

#: When the lines are read: after every line of the tests.
READ_AT = datetime(2024, 6, 1, tzinfo=UTC)


def syslog_findings(text: str, *, year: int) -> list[Finding]:
    """Every finding of a replay of the RFC 3164 lines `text`, written in `year`."""
    options = input_options("syslog", year=year, default_time=READ_AT, not_after=READ_AT)
    found: list[Finding] = []
    run_backtest(
        [line.encode() + b"\n" for line in text.splitlines()],
        fmt="syslog",
        inventory=empty_inventory(),
        read_options=options,
        on_tick=lambda tick: found.extend(tick.findings),
    )
    return found
