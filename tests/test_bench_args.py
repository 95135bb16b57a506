"""The benchmarks' `--repeat` refuses a count that would measure nothing: a located
usage error (exit 2), no traceback, before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("script", ["bench_backtest.py", "bench_ingest_path.py"])
@pytest.mark.parametrize("repeat", ["0", "-3"])
def test_a_repeat_below_one_is_a_usage_error(script: str, repeat: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--repeat", repeat],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"--repeat: give 1 or more runs, got {repeat}" in done.stderr
    assert "Traceback" not in done.stderr
