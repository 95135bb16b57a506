"""Running `logvigil run` as a real process in tests: start, wait for, kill."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory.yaml"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGVIGIL_")}
    env.update(extra)
    return env


def start_daemon(config: Path, *args: str, log: Path, env: dict[str, str] | None = None):
    """`logvigil run --config CONFIG ARGS` in its own process group (so the embedded
    graph server it starts dies with it), stdout and stderr into `log`."""
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "logvigil.cli", "run", "--config", str(config), *args],
            env=env if env is not None else clean_env(),
            cwd=config.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        out.close()


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the daemon and everything it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def stop(proc: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM the daemon, wait for it, then make sure its group is gone; returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    code = proc.returncode
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return code if code is not None else proc.returncode


def wait_for(
    check: Callable[[], Any],
    *,
    timeout: float,
    every: float = 0.25,
    what: str = "condition",
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
) -> Any:
    """Poll `check` until it returns something truthy; fails after `timeout` seconds.

    Given the daemon's `proc` (and its `log`), fails as soon as the daemon exits,
    and either failure shows the end of the daemon's log: a daemon that died at
    start must not look like a slow one.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"the daemon exited ({proc.returncode}) while waiting for {what}{_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{_tail(log)}")
        time.sleep(every)


def _tail(log: Path | None, chars: int = 4000) -> str:
    if log is None or not log.exists():
        return ""
    return "; the daemon's log ends:\n" + log.read_text(errors="replace")[-chars:]


def stored_messages(db: Path) -> list[str]:
    """The messages in a SQLite store, read-only; [] before it exists or is migrated."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return [m for (m,) in conn.execute("SELECT message FROM events")]
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()
