"""Benchmark: `logvigil run` following a file that grows by 100 lines a second.

Starts the real daemon (`--role all`, SQLite store, embedded graph, one file
source, 60 s ticks), lets it settle, then appends syslog lines at a steady
rate for `--seconds` (default 60) and measures the daemon process over that
span: CPU from /proc/PID/stat (utime + stime deltas, in % of one core) and
resident memory (VmRSS at the end, VmHWM peak). The embedded FalkorDB server is
reported apart. Finally checks that every line was stored.

    uv run python bench/bench_daemon.py [--rate 100] [--seconds 60]

Targets (issue 7): under 2% of one core and under 150 MB at 100 lines/s.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_backtest import tree_rss_mb

TICKS = os.sysconf("SC_CLK_TCK")
SERVICES = ("nginx", "postgres", "sshd", "cron", "nextcloud", "redis", "dockerd")


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (without its children), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def line(i: int) -> str:
    service = SERVICES[i % len(SERVICES)]
    stamp = time.strftime("%b %d %H:%M:%S", time.gmtime())
    return (
        f"<30>{stamp} host-{i % 5:02d} {service}[{1000 + i % 50}]: "
        f"request {i} from 10.0.{i % 256}.{(i * 7) % 256} took {i % 900} ms status {200 + i % 3}\n"
    )


def stored(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=100, help="lines per second")
    ap.add_argument("--seconds", type=float, default=60, help="measured span")
    ap.add_argument("--settle", type=float, default=10, help="seconds before measuring")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-daemon-") as tmp:
        folder = Path(tmp)
        log = folder / "syslog"
        log.write_text("")
        cfg = folder / "logvigil.yaml"
        cfg.write_text(
            f"data_dir: {folder / 'data'}\n"
            f"sources:\n  - type: file\n    path: {log}\n    format: syslog\n"
            f"graph:\n  inventory: {folder / 'none.yaml'}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOGVIGIL_")}
        daemon = subprocess.Popen(
            [sys.executable, "-m", "logvigil.cli", "run", "--config", str(cfg)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "daemon.log").open("wb"),
        )
        written = 0
        try:
            with log.open("a") as f:
                # Settle: start-up (imports, migrations, graph) is not the steady state.
                t = time.monotonic()
                while time.monotonic() - t < args.settle:
                    f.write(line(written))
                    f.flush()
                    written += 1
                    time.sleep(1 / args.rate)
                cpu0, t0 = cpu_seconds(daemon.pid), time.monotonic()
                base = written
                while (now := time.monotonic()) - t0 < args.seconds:
                    while written < base + int((now - t0) * args.rate):
                        f.write(line(written))
                        written += 1
                    f.flush()
                    time.sleep(0.05)
                cpu1, t1 = cpu_seconds(daemon.pid), time.monotonic()
            own, server = tree_rss_mb(daemon.pid, tmp)
            peak = peak_rss_mb(daemon.pid)
            deadline = time.monotonic() + 30
            db = folder / "data" / "logvigil.db"
            while stored(db) < written and time.monotonic() < deadline:
                time.sleep(0.5)
            count = stored(db)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=120)
        core = 100 * (cpu1 - cpu0) / (t1 - t0)
        print(
            f"daemon at {args.rate:.0f} lines/s for {t1 - t0:.0f} s: {core:.2f}% of one core, "
            f"{own:.0f} MB RSS (peak {peak:.0f} MB; + {server:.0f} MB embedded FalkorDB server)"
        )
        print(f"stored {count:,} of {written:,} lines; exit {code} after SIGTERM")
        print(f"target < 2% of one core: {'OK' if core < 2 else 'MISSED'}")
        print(f"target < 150 MB: {'OK' if peak < 150 else 'MISSED'}")
        return 0 if count == written and code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
