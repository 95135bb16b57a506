"""SIGKILL the daemon again and again while its file grows: every line is stored exactly once.

The daemon commits a source batch's events and the cursor after them in one
transaction; a kill before the commit re-reads the batch, a kill after it
resumes past it. This test shows it from outside, with real processes.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from daemon_support import INVENTORY, kill_hard, start_daemon, stop, stored_messages, wait_for

LINES = 8000
RATE = 250  # lines per second: the file grows through every kill and restart
#: The writer stays at most this many lines ahead of the store, so a daemon that starts
#: slowly (a loaded machine) cannot let it finish before the kills are over.
LEAD = 1500


def _writer(path: Path, db: Path, done: threading.Event) -> None:
    with path.open("a") as f:
        for i in range(LINES):
            f.write(f"order {i:06d} accepted from queue {i % 7}\n")
            f.flush()
            if i % 25 == 24:
                time.sleep(25 / RATE)
                while i - len(stored_messages(db)) > LEAD:
                    time.sleep(0.1)
    done.set()


@pytest.mark.slow
def test_every_line_is_stored_exactly_once_across_sigkills(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    db = tmp_path / "data" / "logvigil.db"
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"sources:\n  - type: file\n    path: {log}\n    format: raw\n"
        f"graph:\n  inventory: {INVENTORY}\n"
    )
    daemon_log = tmp_path / "daemon.log"
    done = threading.Event()
    writer = threading.Thread(target=_writer, args=(log, db, done), daemon=True)
    writer.start()
    rng = random.Random(7)
    kills = 0
    while kills < 4:
        proc = start_daemon(cfg, log=daemon_log)
        # Let it ingest something (so each kill interrupts real work), then kill it at once.
        before = len(stored_messages(db))
        wait_for(lambda b=before: len(stored_messages(db)) > b, timeout=60, what="progress")
        time.sleep(rng.uniform(0.0, 1.5))
        kill_hard(proc)
        kills += 1
    assert not done.is_set(), "the writer outran the kills: raise LINES"
    proc = start_daemon(cfg, log=daemon_log)
    try:
        wait_for(done.is_set, timeout=60, what="the writer")
        wait_for(lambda: len(stored_messages(db)) >= LINES, timeout=60, what="every line")
        time.sleep(3)  # a duplicate would arrive with the next flush
    finally:
        code = stop(proc)
    assert code == 0, daemon_log.read_text()[-3000:]

    written = log.read_text().splitlines()
    stored = Counter(stored_messages(db))
    assert len(written) == LINES
    missing = [line for line in written if stored[line] == 0]
    twice = {line: n for line, n in stored.items() if n > 1}
    assert not missing, f"{len(missing)} lines lost, e.g. {missing[:3]}"
    assert not twice, f"{len(twice)} lines stored twice, e.g. {list(twice.items())[:3]}"
    assert sum(stored.values()) == LINES
