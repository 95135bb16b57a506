"""Throughput of logvigil.ingest.formats.read_events on generated JSONL, journald and syslog input.

Run by hand: `uv run python bench/bench_formats.py [lines]`. Prints lines/s per format.
The whole ingest must sustain 25k lines/s including database writes, so the
readers should do well over 150k lines/s.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.severity import infer_severity

START = 1_772_618_400_000_000  # 2026-03-04T10:00:00Z in microseconds
MESSAGES = (
    "Accepted publickey for deploy from 10.0.4.17 port 51234 ssh2: ED25519 SHA256:abcdef",
    "Started Session 1234 of User deploy.",
    '10.0.0.5 - - [04/Mar/2026:10:00:00 +0000] "GET /status HTTP/1.1" 200 612 "-" "curl/8.5"',
    "2026-03-04 10:00:00,123 ERROR worker: job 8812 failed: connection refused",
    'level=info ts=2026-03-04T10:00:00Z caller=main.go:88 msg="reloaded configuration"',
    "pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1000)",
    "CRON[2231]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "checkpoint complete: wrote 1234 buffers (7.5%); 0 WAL file(s) added, 0 removed",
)


def jsonl_lines(n: int) -> list[bytes]:
    rnd = random.Random(1)
    out = []
    for i in range(n):
        obj = {
            "ts": f"2026-03-04T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
            "host": f"web-{i % 7:02d}",
            "service": rnd.choice(("nginx", "postgres", "sshd", "app")),
            "severity": rnd.choice(("info", "info", "info", "warning", "error")),
            "message": rnd.choice(MESSAGES),
            "request_id": f"{rnd.getrandbits(64):016x}",
        }
        out.append(json.dumps(obj).encode() + b"\n")
    return out


def journal_lines(n: int) -> list[bytes]:
    rnd = random.Random(2)
    out = []
    for i in range(n):
        obj = {
            "__CURSOR": f"s=6f1c2d;i={i:x};b=9a1f;m={i:x};t=5e3f;x=1c2b",
            "__REALTIME_TIMESTAMP": str(START + i * 1000),
            "__MONOTONIC_TIMESTAMP": str(1_000_000 + i),
            "_BOOT_ID": "9a1f3b5c7d9e4f00a1b2c3d4e5f60718",
            "_TRANSPORT": "journal",
            "PRIORITY": rnd.choice(("6", "6", "6", "4", "3")),
            "SYSLOG_FACILITY": "3",
            "SYSLOG_IDENTIFIER": "sshd",
            "_PID": str(1000 + i % 500),
            "_UID": "0",
            "_GID": "0",
            "_COMM": "sshd",
            "_EXE": "/usr/sbin/sshd",
            "_CMDLINE": "sshd: deploy [priv]",
            "_SYSTEMD_CGROUP": "/system.slice/ssh.service",
            "_SYSTEMD_UNIT": "ssh.service",
            "_SYSTEMD_SLICE": "system.slice",
            "_MACHINE_ID": "4c1f9e2d3b5a7c9e1f3d5b7a9c1e3f5d",
            "_HOSTNAME": f"db-{i % 5:02d}",
            "MESSAGE": rnd.choice(MESSAGES),
            "_SOURCE_REALTIME_TIMESTAMP": str(START + i * 1000 - 7),
        }
        out.append(json.dumps(obj).encode() + b"\n")
    return out


def syslog_lines(n: int) -> list[bytes]:
    rnd = random.Random(3)
    return [
        f"Mar  4 10:{i // 60 % 60:02d}:{i % 60:02d} db-{i % 5:02d} sshd[{1000 + i % 500}]: "
        f"{rnd.choice(MESSAGES)}\n".encode()
        for i in range(n)
    ]


def measure(name: str, lines: list[bytes], fmt: str) -> None:
    options = ReadOptions(source="bench", default_time=datetime(2026, 3, 5, tzinfo=UTC))
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        events = sum(1 for _ in read_events(lines, fmt, options))
        elapsed = time.perf_counter() - start
        best = max(best, len(lines) / elapsed)
    assert events == len(lines)
    print(f"{name:<28} {best:>10,.0f} lines/s")


def measure_fn(name: str, fn: Callable[[], int], count: int) -> None:
    start = time.perf_counter()
    fn()
    print(f"{name:<28} {count / (time.perf_counter() - start):>10,.0f} calls/s")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    measure("jsonl", jsonl_lines(n), "jsonl")
    measure("jsonl (auto)", jsonl_lines(n), "auto")
    measure("journal", journal_lines(n), "journal")
    measure("syslog (RFC 3164)", syslog_lines(n), "syslog")
    messages = [MESSAGES[i % len(MESSAGES)] for i in range(n)]
    measure_fn("infer_severity", lambda: sum(infer_severity(None, m) for m in messages), n)


if __name__ == "__main__":
    main()
