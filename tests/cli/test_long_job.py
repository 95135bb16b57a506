"""`long_job`: the collector set for a command's one job, only in the command's own process."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from logvigil.cli import kit


@pytest.fixture
def collector() -> Iterator[None]:
    threshold, own = gc.get_threshold(), kit._OWN_PROCESS[0]
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    kit._OWN_PROCESS[0] = own


def test_a_command_run_inside_another_program_leaves_its_collector_alone(collector) -> None:
    kit._OWN_PROCESS[0] = False  # as under a test's CliRunner
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    kit.long_job()
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def test_in_its_own_process_start_up_is_frozen_and_young_objects_wait_longer(collector) -> None:
    kit.own_process()
    kit.long_job()
    assert gc.get_freeze_count() > 1000  # the imports of this process
    assert gc.get_threshold()[0] == kit.LONG_JOB_GC_THRESHOLD


def test_the_command_line_runs_its_commands_in_its_own_process() -> None:
    code = (
        "import atexit, gc, sys; from logvigil.cli import main; "
        "atexit.register(lambda: print(gc.get_freeze_count() > 1000, gc.get_threshold()[0])); "
        "sys.argv = ['logvigil', 'mine', '--jsonl', '-']; main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=b"a line\n", capture_output=True, timeout=120
    )
    assert out.stdout.splitlines()[-1] == f"True {kit.LONG_JOB_GC_THRESHOLD}".encode(), out.stderr
