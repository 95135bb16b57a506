"""Cost of one detector tick: `evaluate` of all four detectors over one window.

Run by hand, not in CI:

    uv run python bench/bench_tick_detectors.py [--services 1000] [--templates 20000]

The synthetic window is one minute of a busy fleet: `--services` services on
`--services / 5` hosts, `--templates` templates spread over them, every
template active in the minute (one count row each, about 5% of them at ERROR
level, a few of them catastrophic primitives), a handful of first-seen pairs,
and state warmed up by `--warmup` earlier minutes (so baselines, cadences and
the primitive cache exist, as in a daemon that has been running). The state
goes through `json.dumps`/`loads` between ticks, as the tick's JSON column does.

Reports the median and the worst of `--repeat` ticks, per detector and in all,
and the cold first tick (empty state and primitive cache).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.detectors import build_detectors
from detector.detectors.base import CountRow, ServiceInfo, Window
from logvigil.core.events import Severity

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)

WORDS = "connect request worker cache query upstream session token job backup sync".split()
PRIMITIVE_TEXTS = (
    "Out of memory: Killed process <*> (<*>) total-vm:<*>",
    "could not write to file <*>: No space left on device",
    "accept4() failed (<*>: Too many open files)",
)


def fleet(
    n_services: int, n_templates: int, seed: int
) -> tuple[list[tuple[str, str, int, Severity]], dict[int, str], dict[str, ServiceInfo]]:
    """Return the (service, host, template id, severity) of every active template,
    the template texts and the inventory."""
    rng = random.Random(seed)
    n_hosts = max(1, n_services // 5)
    services = {
        f"svc-{i:04d}": ServiceInfo(f"svc-{i:04d}", (f"host-{i % n_hosts:03d}",))
        for i in range(n_services)
    }
    names = list(services)
    active: list[tuple[str, str, int, Severity]] = []
    texts: dict[int, str] = {}
    for tid in range(1, n_templates + 1):
        svc = names[tid % n_services]
        sev = Severity.ERROR if rng.random() < 0.05 else Severity.INFO
        words = rng.sample(WORDS, 4)
        texts[tid] = f"{words[0]} {words[1]} <*> took <*> ms for {words[2]} {words[3]}"
        if tid % 5000 == 0:
            texts[tid] = PRIMITIVE_TEXTS[(tid // 5000) % len(PRIMITIVE_TEXTS)]
            sev = Severity.ERROR
        active.append((svc, services[svc].hosts[0], tid, sev))
    return active, texts, dict(services)


def window_at(
    minute: datetime,
    active: list[tuple[str, str, int, Severity]],
    texts: dict[int, str],
    services: dict[str, ServiceInfo],
    rng: random.Random,
    new_pairs: int,
) -> Window:
    rows = tuple(
        CountRow(minute, host, svc, tid, sev, 1 + rng.randrange(5))
        for svc, host, tid, sev in active
    )
    pairs = {}
    for _ in range(new_pairs):
        svc, _host, tid, _sev = rng.choice(active)
        pairs[(svc, tid)] = minute
    return Window(minute, minute + MIN, rows, texts, pairs, services)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--templates", type=int, default=20_000)
    ap.add_argument("--warmup", type=int, default=30, help="minutes of state warm-up")
    ap.add_argument("--repeat", type=int, default=21, help="measured ticks")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    active, texts, services = fleet(args.services, args.templates, args.seed)
    detectors = build_detectors()
    state: dict[str, dict] = {d.name: {} for d in detectors}

    def tick(i: int) -> dict[str, float]:
        minute = T0 + i * MIN
        window = window_at(minute, active, texts, services, rng, new_pairs=5)
        cost: dict[str, float] = {}
        for d in detectors:
            t = time.perf_counter()
            _, new_state = d.evaluate(window, state[d.name], minute + MIN)
            cost[d.name] = (time.perf_counter() - t) * 1000
            state[d.name] = json.loads(json.dumps(new_state))
        cost["all"] = sum(cost.values())
        return cost

    cold = tick(0)
    for i in range(1, args.warmup):
        tick(i)
    runs = [tick(args.warmup + i) for i in range(args.repeat)]

    print(
        f"{args.services} services, {args.templates} templates, "
        f"{len(active)} count rows per minute, {args.repeat} ticks after {args.warmup} warm-up"
    )
    print(f"{'detector':<14}{'median ms':>11}{'max ms':>9}{'cold ms':>9}")
    for name in [*(d.name for d in detectors), "all"]:
        values = [r[name] for r in runs]
        print(f"{name:<14}{statistics.median(values):>11.2f}{max(values):>9.2f}{cold[name]:>9.2f}")


if __name__ == "__main__":
    main()
