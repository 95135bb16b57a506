"""The generator: the homelab's minutes one after another, with the faults acting in them."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from logvigil.evaluation.synth.faults import Fault
from logvigil.evaluation.synth.homelab import DEMO_START, MINUTE, Line, baseline_minute


def generate(
    minutes: int = 6 * 60,
    *,
    start: datetime = DEMO_START,
    seed: int = 42,
    faults: Iterable[Fault] = (),
) -> Iterator[Line]:
    """Lines for `minutes` minutes from `start`, in time order, with `faults` injected.

    Raises ValueError when two faults share an id.
    """
    faults = tuple(faults)
    ids = [f.id for f in faults]
    if len(set(ids)) != len(ids):
        raise ValueError(f"fault ids must be unique, got: {', '.join(ids)}")
    rng = random.Random(seed)
    fault_rngs = {f.id: random.Random(f"{seed}:{f.id}") for f in faults}
    for m in range(minutes):
        t = start + timedelta(minutes=m)
        lines = list(baseline_minute(rng, t))
        acting = [f for f in faults if f.start <= t <= f.end]
        if acting:
            lines = [ln for ln in lines if not any(f.silences(ln) for f in acting)]
            for f in acting:
                lines.extend(
                    ln
                    for ln in f.lines(fault_rngs[f.id], t)
                    if not any(g.silences(ln) for g in acting if g is not f)
                )
        end = t + MINUTE
        yield from sorted((ln for ln in lines if ln.ts < end), key=lambda line: line.ts)


def generate_jsonl(
    minutes: int = 6 * 60,
    *,
    start: datetime = DEMO_START,
    seed: int = 42,
    faults: Iterable[Fault] = (),
) -> Iterator[bytes]:
    """`generate` as JSONL, one encoded line (with its newline) per item."""
    for line in generate(minutes, start=start, seed=seed, faults=faults):
        yield line.to_json().encode() + b"\n"
