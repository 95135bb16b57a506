"""Benchmark: `logvigil search` and `logvigil ask` on a large store (issue 16: under
200 ms and under 1 s).

Ingests N JSONL lines (default 1,000,000) from T templates (default 10,000) into a
SQLite store with the real CLI, then times `search_templates` in process for a set
of queries, with and without a time range and a service filter, then the
deterministic `ask` for a few questions: the median and the worst of R runs each
(the first run of each query is included: a CLI call pays it).

    uv run python bench/bench_search.py [--lines 1000000] [--templates 10000] [--runs 5]
        [--db sqlite:////tmp/big.db]   # reuse a store made earlier (skips the ingest)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import SERVICES, generate

from logvigil.search.ask import answer_question
from logvigil.search.templates import search_templates
from logvigil.store.database import create_store_engine

QUERIES = (
    "connection refused",
    "disk full",
    "user login failed",
    "timeout while reading upstream",
    "out of memory killed",
    "zzz nothing matches",
)
TARGET_MS = 200
ASK_TARGET_MS = 1000
QUESTIONS = (
    "what happened on host-01 yesterday?",
    "how many errors did svc-001 log yesterday, by hour?",
    "why did connections time out since 09:00",
    "anything wrong in the last 2 hours",
)


def build(db: str, lines: int, templates: int, tmp: Path) -> None:
    src = tmp / "events.jsonl"
    generate(src, lines, templates)
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "logvigil.cli", "ingest", str(src), "--format", "jsonl"]
    subprocess.run([*cmd, "--db", db], check=True, capture_output=True)
    print(f"ingested {lines:,} lines of {templates:,} templates in {time.perf_counter() - t:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--templates", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", default=None, help="an existing store to search (no ingest)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error(f"--runs: give 1 or more, got {args.runs}")
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'big.db'}"
        if args.db is None:
            build(db, args.lines, args.templates, Path(tmp))
        engine = create_store_engine(db)
        since = datetime(2026, 3, 4, 8, tzinfo=UTC) + timedelta(hours=1)
        cases = {
            "all time": {},
            "one hour": {"since": since, "until": since + timedelta(hours=1)},
            "one service": {"service": SERVICES[0]},
        }
        worst_median = 0.0
        for label, filters in cases.items():
            for q in QUERIES:
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    hits = search_templates(engine, q, limit=10, **filters)
                    times.append((time.perf_counter() - t) * 1000)
                median = statistics.median(times)
                worst_median = max(worst_median, median)
                print(
                    f"{label:12s} {q!r:36s} median {median:6.1f} ms, worst {max(times):6.1f} ms, "
                    f"{len(hits)} hits"
                )
        verdict = "OK" if worst_median < TARGET_MS else "MISSED"
        print(f"slowest median: {worst_median:.1f} ms [target < {TARGET_MS} ms: {verdict}]")
        # The generated lines are from 2026-03-04 08:00 UTC on: ask as of the next morning.
        now = datetime(2026, 3, 5, 9, tzinfo=UTC)
        worst_ask = 0.0
        for question in QUESTIONS:
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                answer_question(engine, question, now=now, zone=UTC)
                times.append((time.perf_counter() - t) * 1000)
            median = statistics.median(times)
            worst_ask = max(worst_ask, median)
            print(f"ask {question!r:52s} median {median:6.1f} ms, worst {max(times):6.1f} ms")
        verdict = "OK" if worst_ask < ASK_TARGET_MS else "MISSED"
        print(f"ask, slowest median: {worst_ask:.1f} ms [target < {ASK_TARGET_MS} ms: {verdict}]")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
