"""Run benchmarks of two checkouts side by side, alternating, and report the ratios.

Machines here are shared and noisy: a figure measured today and one measured
yesterday say little. This runs each benchmark of this checkout and of another
one (an older commit, each with its own `uv` environment) in turns, in one run,
and prints the median of each figure and the ratio new / old.

    git worktree add /tmp/old <commit>    # or: git archive <commit> | tar -x -C /tmp/old
    (cd /tmp/old && uv sync --locked)
    uv run python bench/side_by_side.py --old /tmp/old --rounds 3

Each benchmark script prints its figures as text; the patterns below pick them out.
Both checkouts are byte-compiled first, as an installed package is: where
PYTHONDONTWRITEBYTECODE is set (as on this project's CI machines) every process
would otherwise compile the project's modules again, and a checkout that loads
more modules would pay for that rather than for its code.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    """One number a benchmark prints: `pattern` has one group, the number; `which` is
    the match to take when the pattern matches several lines (0: the first)."""

    name: str
    pattern: str
    higher_is_better: bool
    which: int = -1


BENCHES: dict[str, tuple[list[str], list[Figure]]] = {
    "bench_tick": (
        [],
        [
            Figure("tick at 1x (ms)", r"lines/min: tick median ([\d.]+) ms", False, which=0),
            Figure("tick at 1000x (ms)", r"~[\d,]{9,} lines/min: tick median ([\d.]+) ms", False),
        ],
    ),
    "bench_backtest": (
        ["--idle-seconds", "5"],
        [
            Figure("backtest (lines/s)", r"\d s = ([\d,]+) lines/s", True),
            Figure("run idle RSS (MB)", r"run idle: (\d+) MB RSS", False),
        ],
    ),
    "bench_ingest": (
        [],
        [
            Figure("ingest (lines/s)", r"s, ([\d,]+) lines/s", True),
            Figure("ingest peak RSS (MB)", r"peak RSS (\d+) MB", False),
        ],
    ),
    # The labelled real logs of ../shared/data/real_logs (issue 12), each replay's rate as
    # backtest reports it (start-up excluded).
    "bench_backtest_real": (
        ["--only-real", "--real", str(HERE.parent / "shared" / "data" / "real_logs")],
        [
            Figure(
                f"replay {name} (lines/s)",
                rf"real {re.escape(name)}: .*?\(replay [\d.]+ s = ([\d,]+) lines/s\)",
                True,
            )
            for name in (
                "cowrie_honeypot.json",
                "elemoine_kern.log",
                "loghub_Linux_full.log",
                "plemma_syslog.log",
                "serverlog_auth.log",
            )
        ],
    ),
    "bench_tick_detectors": (
        [],
        [Figure("all detectors, median (ms)", r"(?m)^all\s+([\d.]+)", False)],
    ),
}


def children_cpu_s() -> float:
    """CPU seconds (user + system) of every waited-for descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: The CPU seconds of a whole benchmark run (its data generation included, the same code
#: on both sides), measured around it rather than printed by it.
CPU = Figure("CPU of the whole run (s)", "", False)


def run_once(checkout: Path, bench: str, args: list[str]) -> tuple[str, float]:
    """The benchmark's output (stdout and stderr) when run in `checkout`'s environment,
    and the CPU seconds the whole run took (its processes and their children)."""
    before = children_cpu_s()
    proc = subprocess.run(
        ["uv", "run", "--quiet", "python", f"bench/{_script(bench)}.py", *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{bench} failed in {checkout}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr, children_cpu_s() - before


def _script(bench: str) -> str:
    """The script a benchmark runs: `bench_backtest_real` is `bench_backtest`'s."""
    return bench.removesuffix("_real")


def compile_checkout(checkout: Path) -> None:
    """Byte-compile `checkout`'s Python files (its virtual environment excluded)."""
    subprocess.run(
        [
            "uv",
            "run",
            "--quiet",
            "python",
            "-m",
            "compileall",
            "-q",
            "-x",
            r"[/\\]\.venv[/\\]",
            ".",
        ],
        cwd=checkout,
        capture_output=True,
        check=False,
    )


def pick(figure: Figure, output: str) -> float | None:
    found = re.findall(figure.pattern, output)
    return float(found[figure.which].replace(",", "")) if found else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, required=True, help="the other checkout")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("benches", nargs="*", default=["bench_tick", "bench_backtest", "bench_ingest"])
    args = ap.parse_args()
    unknown = [b for b in args.benches if b not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHES)}")
    for checkout in (args.old, HERE):
        compile_checkout(checkout)
    for bench in args.benches:
        extra, figures = BENCHES[bench]
        values: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
        for r in range(args.rounds):
            # Alternate which side goes first, so a drift of the machine hits both.
            order = [("old", args.old), ("new", HERE)]
            for side, checkout in order if r % 2 == 0 else reversed(order):
                output, cpu = run_once(checkout, bench, extra)
                # CPU time counts what the code did, whatever else the machine was doing.
                values[side].setdefault(CPU.name, []).append(cpu)
                for f in figures:
                    value = pick(f, output)
                    if value is not None:
                        values[side].setdefault(f.name, []).append(value)
            print(f"{bench}: round {r + 1}/{args.rounds} done", file=sys.stderr)
        print(f"{bench} ({args.rounds} rounds each, alternating)")
        for f in [*figures, CPU]:
            old, new = values["old"].get(f.name), values["new"].get(f.name)
            if not old or not new:
                print(f"  {f.name}: not printed by one side")
                continue
            # The best run is the one the machine disturbed least; the median shows the rest.
            best = max if f.higher_is_better else min
            ob, nb = best(old), best(new)
            om, nm = statistics.median(old), statistics.median(new)
            print(
                f"  {f.name}: best old {ob:,.1f} new {nb:,.1f} (new/old {nb / ob:.3f}); "
                f"median old {om:,.1f} new {nm:,.1f} (new/old {nm / om:.3f})"
            )


if __name__ == "__main__":
    main()
