"""The benchmarks' `--repeat` refuses a count that would measure nothing: a located
usage error (exit 2), no traceback, before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from logvigil.core.events import LogEvent
from logvigil.ingest.formats import input_options, read_events

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("script", ["bench_backtest.py", "bench_ingest_path.py"])
@pytest.mark.parametrize("repeat", ["0", "-3"])
def test_a_repeat_below_one_is_a_usage_error(script: str, repeat: str) -> None:
    _usage_error([script, "--repeat", repeat], f"--repeat: give 1 or more runs, got {repeat}")


@pytest.mark.parametrize("hosts", ["0", "-5"])
def test_a_fleet_of_no_hosts_is_a_usage_error(hosts: str) -> None:
    _usage_error(
        ["bench_backtest.py", "--fleet", hosts], f"--fleet: give 1 or more hosts, got {hosts}"
    )


def _usage_error(args: list[str], message: str) -> None:
    """The benchmark script `args[0]` run with the rest of `args` stops with a located
    usage error (exit 2) that says `message`, without a traceback."""
    done = subprocess.run(
        [sys.executable, str(BENCH / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_fleet_generator_writes_a_relay_the_syslog_reader_reads(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from bench_backtest import fleet_log  # deferred: a benchmark script, not a package
    finally:
        sys.path.remove(str(BENCH))

    log = tmp_path / "relay.log"
    assert fleet_log(log, hosts=7, days=1, per_minute=3) == 3 * 24 * 60
    events = list(
        read_events(log.read_bytes().splitlines(), "syslog", input_options("r", year=2024))
    )
    assert len(events) == 3 * 24 * 60 and all(isinstance(e, LogEvent) for e in events)
    assert {e.host for e in events} <= {f"web-{h:04d}" for h in range(7)}


def test_the_2x_target_is_judged_on_the_median_of_the_rounds_ratios() -> None:
    """Each round's ratio sets runs made back to back against each other; the best run of
    one side against the best of the other may pair moments minutes apart."""
    sys.path.insert(0, str(BENCH))
    try:
        from bench_ingest_path import Result, Round  # deferred: a benchmark script
    finally:
        sys.path.remove(str(BENCH))

    # (start-up, command, Drain3): 2.5x, 1.2x and 2.2x with start-up subtracted.
    rounds = [Round(1.0, 3.0, 1.0, 9.0, 5.0), Round(1.0, 2.0, 1.0, 9.0, 1.2)]
    rounds.append(Round(0.5, 1.5, 1.0, 9.0, 2.2))
    result = Result("f", "--format raw", 1000, 0.5, 0.5, 8.0, 1.0, 0.1, 0.5, 1.2, rounds)
    assert [round(x, 6) for x in result.ratios()] == [2.5, 1.2, 2.2]
    assert result.median_ratio() == pytest.approx(2.2)
    without = Result("f", "--format raw", 1000, 0.5, 0.5, 8.0, 1.0, 0.1, 0.5)
    assert without.median_ratio() is None
