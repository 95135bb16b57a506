"""Deterministic investigation: time per incident and the size of the crew's context.

    uv run python bench/bench_investigate.py [--days 3]

Backtests the demo homelab (`logvigil demo`'s faults) into a temporary SQLite
file, then investigates every incident deterministically (no model) and
reports the median and maximum time, and the context the crew would get
(the bundle's essentials plus the hypotheses, as `investigate.prompt.build_context`
renders it) in tokens (~ characters / 4).
Targets: < 2 s per incident, < 3,000 tokens of context.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from detector.incidents.manager import IncidentManager
from detector.incidents.topology import InventoryTopology
from investigate.analysis import analyse
from investigate.prompt import build_context, context_budget_chars, estimate_tokens
from investigate.service import investigate
from investigate.tools import EvidenceTools
from logvigil.app.runtime import read_inventory
from logvigil.core.timeutil import wall_clock
from logvigil.evaluation.demo import HOMELAB_INVENTORY, run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        t0 = time.perf_counter()
        run_demo(days=args.days, db_url=url)
        print(f"backtest of {args.days} demo days: {time.perf_counter() - t0:.1f} s")
        engine = create_engine(url)
        topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
        manager = IncidentManager(engine, topology)
        times, tokens = [], []
        now = wall_clock()
        for inc in sorted(manager.list(limit=1000), key=lambda i: i.id):
            t = time.perf_counter()
            report = investigate(engine, topology, inc.id, now=now)
            times.append(time.perf_counter() - t)
            analysis = analyse(inc, EvidenceTools(engine, topology, inc))
            context = build_context(inc, analysis, context_budget_chars())
            tokens.append(estimate_tokens(context.text))
            root = report.root_cause.service if report.root_cause else "no root cause"
            print(
                f"incident {inc.id:3d} {inc.title[:50]:50s} {times[-1] * 1000:7.1f} ms "
                f"context ~{tokens[-1]:5d} tokens  root: {root}"
            )
        engine.dispose()
    print(
        f"{len(times)} incidents: median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms (target < 2000 ms); "
        f"context median ~{statistics.median(tokens):.0f}, max ~{max(tokens)} tokens "
        "(target < 3000)"
    )


if __name__ == "__main__":
    main()
