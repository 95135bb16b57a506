"""Benchmark: `logvigil ingest` of a JSONL file into SQLite, as a user runs it.

Generates N lines (default 1,000,000) drawn from T distinct templates (default
10,000) with realistic variables (numbers, IPs, hex ids, durations), then runs
the real CLI in a subprocess and reports lines per second and the child's peak
RSS. The CLI runs on one core (Python is single-threaded here; SQLite writes in
the same thread).

    uv run python bench/bench_ingest.py                 # 1M lines, 10k templates
    uv run python bench/bench_ingest.py --lines 200000  # quicker

Targets (issue 2): at least 25,000 lines/s, peak RSS under 300 MB.

The CLI runs as after its first run on a normal machine: Python's bytecode cache
written (a warm-up run writes it; `PYTHONDONTWRITEBYTECODE`, which some shells and
containers set, is left out of the child's environment: with it every start-up
compiles some 300 modules again, 1.8 s here). The start-up, timed on an empty
file, is reported beside the figure, which includes it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "connection request worker cache queue backend session token upstream client "
    "server socket buffer index shard replica snapshot volume mount device driver "
    "module plugin handler scheduler job task timer thread pool lock lease record "
    "batch stream channel frame packet route gateway proxy listener consumer "
    "producer topic partition offset commit rollback transaction checkpoint vacuum "
    "compaction segment journal ledger manifest bundle artifact image container pod "
    "node cluster zone region tenant account profile quota policy rule filter metric "
    "gauge counter histogram sample probe health"
).split()
VERBS = (
    "started stopped failed completed refused accepted opened closed created deleted "
    "updated expired renewed retried dropped flushed loaded saved rotated evicted"
).split()
SERVICES = [f"svc-{i:03d}" for i in range(60)]
HOSTS = [f"host-{i:02d}" for i in range(12)]


def make_templates(n: int, rng: random.Random) -> list[list[str]]:
    """n distinct templates: word sequences with variable slots."""
    seen: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    slots = ("{n}", "{ip}", "{hex}", "{ms}", "{kv}")
    while len(out) < n:
        length = rng.randint(4, 12)
        words = [rng.choice(VERBS if i == 1 else WORDS) for i in range(length)]
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randint(1, len(words)), rng.choice(slots))
        key = tuple(words)
        if key not in seen:
            seen.add(key)
            out.append(words)
    return out


def fill(words: list[str], rng: random.Random) -> str:
    parts = []
    for w in words:
        if w == "{n}":
            parts.append(str(rng.randint(0, 99999)))
        elif w == "{ip}":
            parts.append(f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
        elif w == "{hex}":
            parts.append(f"{rng.getrandbits(48):012x}")
        elif w == "{ms}":
            parts.append(f"{rng.random() * 900:.1f}ms")
        elif w == "{kv}":
            parts.append(f"id={rng.randint(1, 10**6)}")
        else:
            parts.append(w)
    return " ".join(parts)


def generate(path: Path, lines: int, templates: int, seed: int = 7, spacing: float = 0.01) -> None:
    rng = random.Random(seed)
    tpls = make_templates(templates, rng)
    # Zipf-like popularity, but every template appears at least once.
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(tpls))]
    t0 = 1_772_611_200.0  # 2026-03-04T08:00:00Z
    with path.open("w") as f:
        order = list(range(len(tpls)))
        rng.shuffle(order)
        picks = order + rng.choices(range(len(tpls)), weights, k=max(0, lines - len(tpls)))
        for i, t in enumerate(picks[:lines]):
            ts = t0 + i * spacing
            rec = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
                + f".{int(ts * 1000) % 1000:03d}Z",
                "host": HOSTS[t % len(HOSTS)],
                "service": SERVICES[t % len(SERVICES)],
                "severity": "error" if t % 17 == 0 else "info",
                "message": fill(tpls[t], rng),
            }
            f.write(json.dumps(rec) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--templates", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as tmp:
        src = Path(tmp) / "events.jsonl"
        t = time.perf_counter()
        generate(src, args.lines, args.templates)
        print(
            f"generated {args.lines:,} lines ({src.stat().st_size / 2**20:.0f} MiB) from "
            f"{args.templates:,} templates in {time.perf_counter() - t:.1f} s"
        )
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def ingest(path: Path, db: str) -> tuple[subprocess.CompletedProcess[str], float]:
            cmd = [sys.executable, "-m", "logvigil.cli", "ingest", str(path), "--format",
                   "jsonl", "--db", db]  # fmt: skip
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            return proc, time.perf_counter() - t

        empty = Path(tmp) / "empty.jsonl"
        empty.touch()
        ingest(empty, f"sqlite:///{Path(tmp) / 'warm-up.db'}")  # writes the bytecode cache
        startup = ingest(empty, f"sqlite:///{Path(tmp) / 'empty.db'}")[1]
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        proc, elapsed = ingest(src, db)
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        stats = subprocess.run(
            [sys.executable, "-m", "logvigil.cli", "stats", "--db", db, "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        s = json.loads(stats.stdout)
        rate = args.lines / elapsed
        print(
            f"ingest: {elapsed:.1f} s, {rate:,.0f} lines/s, peak RSS {rss_mb:.0f} MB, "
            f"{s['templates']:,} templates mined, {s['events_stored']:,} events stored"
        )
        print(
            f"start-up (an empty file): {startup:.1f} s; without it "
            f"{args.lines / max(elapsed - startup, 1e-9):,.0f} lines/s"
        )
        print(
            f"target: >= 25,000 lines/s {'OK' if rate >= 25_000 else 'MISSED'}; "
            f"RSS < 300 MB {'OK' if rss_mb < 300 else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
