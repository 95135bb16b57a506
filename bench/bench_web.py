"""Benchmark: every page of `logvigil web` on a large store (issue 17: under 300 ms).

The store is `bench_search.py`'s: one million events from 10,000 templates and 1,000
incidents made by the incident manager (every fifth with its report). Each page is
requested in process through Starlette's test client (the whole request: routing,
queries, templates, the SVG), R times; the median and the worst are printed, the
first request included.

    uv run python bench/bench_web.py [--db sqlite:////tmp/big.db] [--runs 5]
        # without --db, or when its file is missing, the store is built first
        # (bench_search.py's build: several minutes)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import SERVICES
from bench_search import incident_counts, open_store

from logvigil.app.settings import Settings
from logvigil.store.schema import IncidentRow, MinuteCount
from logvigil.web.app import create_app

TARGET_MS = 300


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="the store (built there when missing)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if args.runs < 1:
        ap.error(f"--runs: give 1 or more, got {args.runs}")
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as tmp:
        engine = open_store(args.db, Path(tmp), 1_000_000, 10_000, 1000)
        with engine.connect() as conn:
            newest = conn.execute(select(func.max(MinuteCount.minute))).scalar_one()
            ids = list(
                conn.execute(
                    select(IncidentRow.id)
                    .where(IncidentRow.report.is_not(None))
                    .order_by(IncidentRow.id)
                ).scalars()
            )
        total, _, reports = incident_counts(engine)
        print(f"store: {total:,} incidents, {reports:,} with a report; newest minute {newest}")
        now = newest + timedelta(minutes=30)  # the pages' "now": just after the events
        web = create_app(engine, Settings(), clock=lambda: now)
        pages = [
            "/",
            f"/?service={SERVICES[0]}",
            "/?severity=critical&status=resolved",
            f"/incidents/{ids[0]}",
            f"/incidents/{ids[len(ids) // 2]}",
            f"/incidents/{ids[-1]}",
            "/services",
            "/templates",
            "/templates?q=connection+refused",
            "/status",
            "/trends?days=14",
            "/trends?days=92",
        ]
        worst_median = 0.0
        with TestClient(web) as client:
            for page in pages:
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    r = client.get(page)
                    times.append((time.perf_counter() - t) * 1000)
                    if r.status_code != 200:
                        print(f"{page}: HTTP {r.status_code}: {r.text[:300]}")
                        return 1
                med = statistics.median(times)
                worst_median = max(worst_median, med)
                print(
                    f"{page:45} median {med:7.1f} ms   worst {max(times):7.1f} ms   "
                    f"{len(r.content) / 1024:6.1f} KiB"
                )
        engine.dispose()
    verdict = "holds" if worst_median < TARGET_MS else "MISSED"
    print(f"slowest median {worst_median:.1f} ms: the {TARGET_MS} ms target {verdict}")
    return 0 if worst_median < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
