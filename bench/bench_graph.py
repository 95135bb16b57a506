"""Benchmark: load a 1,000-service / 3,000-edge inventory and ask blast-radius questions.

Targets (issue 3): the load takes under 2 s; a blast-radius query under 5 ms at
the median. Runs on the embedded FalkorDB in a temporary directory.

    uv run python bench/bench_graph.py [--services 1000] [--edges 3000] [--queries 500]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import queries
from graph.inventory import load_inventory
from graph.store import GraphStore

LOAD_TARGET_S = 2.0
QUERY_TARGET_MS = 5.0


def generate(services: int, edges: int, hosts: int, seed: int) -> dict:
    """A layered inventory: each service depends on or calls up to 60 older ones."""
    rng = random.Random(seed)
    names = [f"svc-{i:04d}" for i in range(services)]
    host_names = [f"host-{i:03d}" for i in range(hosts)]
    spec: dict[str, dict] = {
        n: {"hosts": [rng.choice(host_names)], "type": "app", "depends_on": [], "calls": []}
        for n in names
    }
    seen: set[tuple[int, int]] = set()
    while len(seen) < edges:
        a = rng.randrange(1, services)
        b = rng.randrange(max(0, a - 60), a)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        spec[names[a]]["depends_on" if rng.random() < 0.6 else "calls"].append(names[b])
    return {"hosts": {h: {"role": "node"} for h in host_names}, "services": spec}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inventory.yaml"
        path.write_text(yaml.safe_dump(generate(args.services, args.edges, args.hosts, args.seed)))

        t0 = time.perf_counter()
        inv = load_inventory(path)
        validate_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        store = GraphStore.temporary()
        start_s = time.perf_counter() - t0
        with store:
            result = store.load(inv)
            reload_same = store.load(inv)
            rng = random.Random(args.seed)
            names = list(inv.services)
            sizes: list[int] = []
            times_ms: list[float] = []
            for _ in range(args.queries):
                name = rng.choice(names)
                t0 = time.perf_counter()
                reach = queries.blast_radius(store, name)
                times_ms.append((time.perf_counter() - t0) * 1000)
                sizes.append(len(reach.services))
            up_ms: list[float] = []
            for _ in range(args.queries):
                name = rng.choice(names)
                t0 = time.perf_counter()
                queries.upstream(store, name)
                up_ms.append((time.perf_counter() - t0) * 1000)

    total_load = validate_s + result.seconds
    median = statistics.median(times_ms)
    p95 = statistics.quantiles(times_ms, n=20)[-1]
    print(f"inventory: {result.services} services, {result.hosts} hosts, {result.edges} edges")
    print(f"validate YAML:           {validate_s * 1000:8.1f} ms")
    print(f"graph load (atomic):     {result.seconds * 1000:8.1f} ms")
    verdict = "OK" if total_load < LOAD_TARGET_S else "MISSED"
    print(
        f"validate + load:         {total_load * 1000:8.1f} ms   "
        f"(target < {LOAD_TARGET_S * 1000:.0f} ms: {verdict})"
    )
    print(f"same inventory again:    {reload_same.seconds * 1000:8.1f} ms (no-op)")
    print(f"embedded server start:   {start_s * 1000:8.1f} ms")
    print(
        f"blast radius, {args.queries} queries: median {median:.2f} ms, p95 {p95:.2f} ms, "
        f"max {max(times_ms):.2f} ms; services reached: median "
        f"{statistics.median(sizes):.0f}, max {max(sizes)}   "
        f"(target median < {QUERY_TARGET_MS} ms: {'OK' if median < QUERY_TARGET_MS else 'MISSED'})"
    )
    print(f"upstream, {args.queries} queries:     median {statistics.median(up_ms):.2f} ms")


if __name__ == "__main__":
    main()
