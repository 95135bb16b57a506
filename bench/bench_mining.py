"""Template mining: grouping accuracy and speed, ours against Drain3.

Run by hand, not in CI:

    uv run --with drain3==0.9.11 python bench/bench_mining.py

Reads the Loghub-2k sets from `../shared/data/loghub_2k` next to the
repository (override with LOGVIGIL_LOGHUB_DIR), feeds each set's `Content`
column to a fresh miner and scores the grouping against `EventId`. Drain3 runs
on the same lines in the same process with the masks of its example
`drain3.ini`; without Drain3 installed only our miner is measured. Both miners
run with their one configuration for every set.

Speed is learning speed (`add`), best of `--repeat` runs, on the unique-heavy
Loghub lines; the "repeated" figure feeds the same lines again to a miner that
has already learnt them, which is the steady state of a daemon.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logvigil.ingest.templates import MinerConfig, TemplateMiner

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/loghub_2k"

# Drain3's example drain3.ini: masks and [DRAIN] section, as shipped.
DRAIN3_MASKS = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]

Miner = Callable[[str], Hashable]


def data_dir() -> Path:
    return Path(os.environ.get("LOGVIGIL_LOGHUB_DIR", DEFAULT_DATA))


def load(directory: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Return {set name: (contents, ground-truth event ids)} for every set found."""
    sets: dict[str, tuple[list[str], list[str]]] = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        path = folder / f"{folder.name}_2k.log_structured_corrected.csv"
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        sets[folder.name] = ([r["Content"] for r in rows], [r["EventId"] for r in rows])
    return sets


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[str]) -> float:
    """Share of lines whose predicted group is exactly their true group."""
    truth_sizes = Counter(truth)
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for p, t in zip(predicted, truth, strict=True):
        groups[p].append(t)
    correct = 0
    for labels in groups.values():
        first = labels[0]
        if truth_sizes[first] == len(labels) and all(t == first for t in labels):
            correct += len(labels)
    return correct / len(truth)


def ours() -> Miner:
    miner = TemplateMiner()
    return lambda line: miner.add(line).template_id


def ours_uncached() -> Miner:
    """Ours with the message caches off (the token cache stays: it is part of masking)."""
    miner = TemplateMiner(MinerConfig(cache_size=0))
    return lambda line: miner.add(line).template_id


def drain3() -> Miner:
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(p, name) for p, name in DRAIN3_MASKS]
    config.mask_prefix, config.mask_suffix = "<:", ":>"
    config.drain_sim_th = 0.4
    config.drain_depth = 4
    config.drain_max_children = 100
    config.drain_max_clusters = 1024
    config.drain_extra_delimiters = ["_"]
    config.profiling_enabled = False
    miner = Drain3Miner(config=config)
    return lambda line: miner.add_log_message(line)["cluster_id"]


def run(
    factory: Callable[[], Miner], lines: list[str], repeat: int
) -> tuple[list[Hashable], float, float]:
    """Return (predicted ids, learning lines/s, repeated lines/s), best of `repeat`."""
    best = best_repeated = float("inf")
    predicted: list[Hashable] = []
    for _ in range(repeat):
        add = factory()
        start = time.perf_counter()
        predicted = [add(line) for line in lines]
        best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        for line in lines:
            add(line)
        best_repeated = min(best_repeated, time.perf_counter() - start)
    return predicted, len(lines) / best, len(lines) / best_repeated


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per set, best is kept")
    args = parser.parse_args(argv)

    directory = data_dir()
    if not directory.is_dir():
        print(f"skipped: no Loghub data at {directory} (set LOGVIGIL_LOGHUB_DIR)")
        return 0
    sets = load(directory)
    if not sets:
        print(f"skipped: no NAME/NAME_2k.log_structured_corrected.csv under {directory}")
        return 0
    try:
        import drain3 as _  # noqa: F401

        peers: dict[str, Callable[[], Miner]] = {
            "ours": ours,
            "drain3": drain3,
            "uncached": ours_uncached,
        }
    except ImportError:
        print("drain3 is not importable: measuring ours only")
        print("(uv run --with drain3==0.9.11 python bench/bench_mining.py)\n")
        peers = {"ours": ours, "uncached": ours_uncached}

    has_peer = "drain3" in peers
    header = f"{'set':<11} {'GA ours':>8} {'lines/s ours':>13}"
    if has_peer:
        header += f" {'GA drain3':>10} {'lines/s drain3':>15} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    ga: dict[str, list[float]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    repeated_seconds: dict[str, float] = defaultdict(float)
    total = 0
    for name, (lines, truth) in sets.items():
        row: dict[str, tuple[float, float]] = {}
        for peer, factory in peers.items():
            predicted, speed, repeated = run(factory, lines, args.repeat)
            accuracy = grouping_accuracy(predicted, truth)
            ga[peer].append(accuracy)
            seconds[peer] += len(lines) / speed
            repeated_seconds[peer] += len(lines) / repeated
            row[peer] = (accuracy, speed)
        total += len(lines)
        line = f"{name:<11} {row['ours'][0]:>8.3f} {row['ours'][1]:>13,.0f}"
        if has_peer:
            ratio = row["ours"][1] / row["drain3"][1]
            line += f" {row['drain3'][0]:>10.3f} {row['drain3'][1]:>15,.0f} {ratio:>5.1f}x"
        print(line)
    print("-" * len(header))
    mean = {peer: sum(v) / len(v) for peer, v in ga.items()}
    speed = {peer: total / s for peer, s in seconds.items()}
    line = f"{'average':<11} {mean['ours']:>8.3f} {speed['ours']:>13,.0f}"
    if has_peer:
        ratio = speed["ours"] / speed["drain3"]
        line += f" {mean['drain3']:>10.3f} {speed['drain3']:>15,.0f} {ratio:>5.1f}x"
    print(line)
    print(f"{'minimum':<11} {min(ga['ours']):>8.3f}", end="")
    print(f" {'':>13} {min(ga['drain3']):>10.3f}" if has_peer else "")
    repeated = {peer: total / s for peer, s in repeated_seconds.items()}
    line = f"{'repeated':<11} {'':>8} {repeated['ours']:>13,.0f}"
    if has_peer:
        ratio = repeated["ours"] / repeated["drain3"]
        line += f" {'':>10} {repeated['drain3']:>15,.0f} {ratio:>5.1f}x"
    print(line)
    line = f"{'no cache':<11} {mean['uncached']:>8.3f} {speed['uncached']:>13,.0f}"
    if has_peer:
        line += f" {'':>10} {'':>15} {speed['uncached'] / speed['drain3']:>5.1f}x"
    print(line)
    print(
        f"\n{total:,} lines in {len(sets)} sets; lines/s = learning from a fresh miner, "
        f"best of {args.repeat}; 'repeated' = the same lines again, already learnt;\n"
        "'no cache' = ours with the message caches off (cache_size=0), learning."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
