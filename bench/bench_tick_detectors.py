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

Another tree's detectors (an older commit, exported with `git archive HEAD detector
logvigil | tar -x -C /tmp/old`) can be measured against this one's, side by side:

    uv run python bench/bench_tick_detectors.py --against /tmp/old [--rounds 5]

runs the bench in a subprocess per tree, alternating, `--rounds` times each, and
prints each detector's median of the rounds' medians for both trees and their
ratio (this tree / the other). `all` there sums only the detectors both trees have.
`LOGVIGIL_BENCH_ROOT=/tmp/old` makes one run import that tree's packages first.

    uv run python bench/bench_tick_detectors.py --fold

measures only error_spike's fold, in Python floats and with numpy arrays (the same
result bit for bit), for ticks where 8 to 1,024 services have errors in 1 or 3
minutes, alternating, and prints the ratio: where numpy starts to pay is
`error_spike.VECTOR_FROM`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The tree whose `detector` and `logvigil` packages are measured (this one by default).
sys.path.insert(0, os.environ.get("LOGVIGIL_BENCH_ROOT") or str(Path(__file__).parents[1]))

from detector.detectors import build_detectors
from detector.detectors.base import CountRow, ServiceInfo, Window
from detector.detectors.error_spike import ErrorSpike
from logvigil.core.events import Severity

HERE = Path(__file__).resolve().parents[1]
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


@dataclass
class Measured:
    """A run's cold tick and measured ticks (ms per detector, and `all`), its count rows
    per minute, and per detector a digest of every finding and of the final state."""

    cold: dict[str, float]
    runs: list[dict[str, float]]
    rows: int
    digests: dict[str, str]


def measure(args: argparse.Namespace) -> Measured:
    """Run the warm-up and the measured ticks."""
    rng = random.Random(args.seed)
    active, texts, services = fleet(args.services, args.templates, args.seed)
    detectors = build_detectors()
    state: dict[str, dict] = {d.name: {} for d in detectors}
    found = {d.name: hashlib.sha256() for d in detectors}

    def tick(i: int) -> dict[str, float]:
        minute = T0 + i * MIN
        window = window_at(minute, active, texts, services, rng, new_pairs=5)
        cost: dict[str, float] = {}
        for d in detectors:
            t = time.perf_counter()
            findings, new_state = d.evaluate(window, state[d.name], minute + MIN)
            cost[d.name] = (time.perf_counter() - t) * 1000
            state[d.name] = json.loads(json.dumps(new_state))
            found[d.name].update(repr(findings).encode())
        cost["all"] = sum(cost.values())
        return cost

    cold = tick(0)
    for i in range(1, args.warmup):
        tick(i)
    runs = [tick(args.warmup + i) for i in range(args.repeat)]
    digests = {
        name: hashlib.sha256(
            found[name].hexdigest().encode() + json.dumps(state[name], sort_keys=True).encode()
        ).hexdigest()[:16]
        for name in state
    }
    return Measured(cold, runs, len(active), digests)


def run_tree(root: Path, args: argparse.Namespace) -> tuple[list[dict[str, float]], dict[str, str]]:
    """Each measured tick's cost (ms per detector) with `root`'s packages, measured in a
    subprocess, and the run's digests. Raises SystemExit when the run fails."""
    cmd = [sys.executable, __file__, "--json", *_shared_options(args)]
    env = {**os.environ, "LOGVIGIL_BENCH_ROOT": str(root)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the bench failed with {root}:\n{proc.stdout}{proc.stderr}")
    out = json.loads(proc.stdout)
    return out["ticks"], out["digests"]


def _shared_options(args: argparse.Namespace) -> list[str]:
    return [
        f"--services={args.services}",
        f"--templates={args.templates}",
        f"--warmup={args.warmup}",
        f"--repeat={args.repeat}",
        f"--seed={args.seed}",
    ]


def compare(other: Path, args: argparse.Namespace) -> None:
    """Print each detector's median tick for `other` and this tree, and the ratio; and
    whether both found the same and left the same state."""
    sides = {"other": other.resolve(), "this": HERE}
    medians: dict[str, dict[str, list[float]]] = {"other": {}, "this": {}}
    digests: dict[str, dict[str, str]] = {}
    for r in range(args.rounds):
        # Alternate which tree goes first, so a drift of a shared machine hits both.
        for side in list(sides) if r % 2 == 0 else list(reversed(sides)):
            runs, digests[side] = run_tree(sides[side], args)
            for name in runs[0]:
                medians[side].setdefault(name, []).append(statistics.median(x[name] for x in runs))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    names = [n for n in medians["this"] if n in medians["other"]]
    print(
        f"{args.services} services, {args.templates} templates, {args.repeat} ticks per run, "
        f"{args.rounds} runs per tree, alternating; median of the runs' medians, ms"
    )
    print(f"other: {sides['other']}\nthis:  {sides['this']}")
    print(f"{'detector':<18}{'other':>9}{'this':>9}{'this/other':>12}  findings and state")
    rows = [(n, medians["other"][n], medians["this"][n]) for n in names]
    for m in medians.values():
        m["all"] = [sum(m[n][i] for n in names) for i in range(args.rounds)]
    rows.append(("all", medians["other"]["all"], medians["this"]["all"]))
    for name, old, new in rows:
        o, n = statistics.median(old), statistics.median(new)
        same = ""
        if name != "all":
            same = "same" if digests["this"][name] == digests["other"][name] else "DIFFER"
        print(f"{name:<18}{o:>9.2f}{n:>9.2f}{n / o if o else float('inf'):>12.2f}  {same}")
    only = sorted(set(medians["this"]) ^ set(medians["other"]))
    if only:
        print(f"(not in both trees, left out of all: {', '.join(only)})")


def fold_crossover(rounds: int, seed: int) -> None:
    """error_spike's `evaluate` of one tick's errors, floats against numpy (imported
    first: its import is not what is compared), median of `rounds` alternating runs."""
    import numpy  # noqa: F401  (loaded before the clock starts)

    rng = random.Random(seed)
    floats, arrays = ErrorSpike(vector_from=1 << 30), ErrorSpike(vector_from=0)
    print(f"{'services':>9}{'minutes':>8}{'floats us':>11}{'numpy us':>10}{'floats/numpy':>14}")
    for services in (8, 16, 32, 64, 128, 256, 512, 1024):
        for minutes in (1, 3):
            start = T0 + 100 * MIN
            rows = tuple(
                CountRow(start + j * MIN, "h", f"s{i}", i, Severity.ERROR, rng.randint(1, 3))
                for i in range(services)
                for j in range(minutes)
            )
            window = Window(start, start + minutes * MIN, rows)
            # Baselines learnt before the window, so that every service folds its minutes.
            baseline = {"v": 1, "s": 0, "t": 99, "m": 1.0, "q": 0.5}
            state = {f"s{i}": baseline for i in range(services)}
            times: dict[str, list[float]] = {"floats": [], "numpy": []}
            for _ in range(rounds):
                for name, det in (("floats", floats), ("numpy", arrays)):
                    t0 = time.perf_counter()
                    det.evaluate(window, state, window.end)
                    times[name].append(time.perf_counter() - t0)
            f, n = (statistics.median(times[k]) * 1e6 for k in ("floats", "numpy"))
            print(f"{services:>9}{minutes:>8}{f:>11.1f}{n:>10.1f}{f / n:>14.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--templates", type=int, default=20_000)
    ap.add_argument("--warmup", type=int, default=30, help="minutes of state warm-up")
    ap.add_argument("--repeat", type=int, default=21, help="measured ticks")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--against", type=Path, help="another tree to measure side by side")
    ap.add_argument("--rounds", type=int, default=5, help="runs per tree with --against")
    ap.add_argument("--json", action="store_true", help="print each measured tick as JSON")
    ap.add_argument("--fold", action="store_true", help="error_spike's fold: floats vs numpy")
    args = ap.parse_args()

    if args.fold:
        fold_crossover(max(args.rounds, 31), args.seed)
        return

    if args.against is not None:
        compare(args.against, args)
        return
    m = measure(args)
    if args.json:
        ticks = [{k: v for k, v in r.items() if k != "all"} for r in m.runs]
        print(json.dumps({"ticks": ticks, "digests": m.digests}))
        return
    print(
        f"{args.services} services, {args.templates} templates, "
        f"{m.rows} count rows per minute, {args.repeat} ticks after {args.warmup} warm-up"
    )
    print(f"{'detector':<18}{'median ms':>11}{'max ms':>9}{'cold ms':>9}")
    for name in m.runs[0]:
        values = [r[name] for r in m.runs]
        print(
            f"{name:<18}{statistics.median(values):>11.2f}{max(values):>9.2f}{m.cold[name]:>9.2f}"
        )


if __name__ == "__main__":
    main()
