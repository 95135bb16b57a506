"""error_spike's folds (numpy's arrays, and Python floats for a tick's few services)
agree bit for bit with the plain per-service EWMA.

`ScalarErrorSpike` below is error_spike as it was written before its fold went
to numpy arrays (one service and one minute at a time, Python floats). Random
windows with bursts, gaps, re-evaluated minutes and corrupted state go through
both; findings and persisted state must be identical, since the state is
stored and a restart must continue exactly where the last tick stopped.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import numpy as np
import pytest

from detector.detectors._common import (
    DEFAULT_LEARNING_HOURS,
    fmt,
    from_minute,
    is_amount,
    is_minute,
    one_host,
    powers,
    to_minute,
    versioned,
)
from detector.detectors.base import CountRow, State, Window
from detector.detectors.error_spike import ErrorSpike, ErrorSpikeConfig
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class _Baseline:
    """A service's mutable state while one window is evaluated."""

    __slots__ = ("a", "m", "o", "q", "s", "t")

    def __init__(self, s: int) -> None:
        self.s = s
        self.t = s - 1
        self.m = 0.0
        self.q = 0.0
        self.o: int | None = None
        self.a: int | None = None

    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> _Baseline | None:
        """Return the baseline in `raw`, or None when any field is malformed."""
        s, t, m, q = raw.get("s"), raw.get("t", None), raw.get("m", 0.0), raw.get("q", 0.0)
        o, a = raw.get("o"), raw.get("a")
        if not is_minute(s) or not is_amount(m) or not is_amount(q):
            return None
        if t is not None and not is_minute(t):
            return None
        if (o is None) != (a is None) or (o is not None and not (is_minute(o) and is_minute(a))):
            return None
        b = cls(s)
        b.t = t if t is not None else s - 1
        b.m, b.q, b.o, b.a = float(m), float(q), o, a
        return b

    def dump(self, version: int) -> dict[str, Any]:
        out: dict[str, Any] = {"v": version, "s": self.s}
        if self.t >= self.s:
            out.update(t=self.t, m=self.m, q=self.q)
        if self.o is not None:
            out.update(o=self.o, a=self.a)
        return out


class ScalarErrorSpike:
    """error_spike as it was before numpy: one service and one minute at a time."""

    name: ClassVar[str] = "error_spike"
    state_version: ClassVar[int] = 1

    def __init__(self, config: ErrorSpikeConfig | None = None) -> None:
        self.config = config if config is not None else ErrorSpikeConfig()
        c = self.config
        self._alpha = 1.0 - 0.5 ** (1.0 / c.half_life_minutes)
        hours = c.learning_period_hours
        self._learning = round(60 * (DEFAULT_LEARNING_HOURS if hours is None else hours))

    def threshold(self, mean: float, var: float) -> float:
        """Return the error count at or above which a minute is a spike."""
        k = self.config.k_sigma
        learned = mean + k * math.sqrt(var)
        poisson = mean + k * math.sqrt(mean + 0.375) + k * k / 4
        return max(learned, poisson, float(self.config.min_count))

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the spikes of `window` (minute by minute) and the new state."""
        new_state: dict[str, dict[str, Any]] = dict(state)  # type: ignore[arg-type]
        if not window.rows:
            return [], new_state
        version = self.state_version
        min_sev = self.config.min_severity

        # Errors per (service, minute), with the hosts and templates behind them.
        errors: dict[str, dict[int, list[Any]]] = {}
        first_row: dict[str, int] = {}
        for r in window.rows:
            svc = r.service
            minute = to_minute(r.minute)
            if minute < first_row.get(svc, minute + 1):
                first_row[svc] = minute
            if r.severity < min_sev or r.count <= 0:
                continue
            per_min = errors.setdefault(svc, {})
            cell = per_min.get(minute)
            if cell is None:
                cell = per_min[minute] = [0, {}, {}]
            cell[0] += r.count
            cell[1][r.host] = cell[1].get(r.host, 0) + r.count
            cell[2][r.template_id] = cell[2].get(r.template_id, 0) + r.count

        findings: list[Finding] = []
        for svc, start in first_row.items():
            raw = versioned(state, svc, version)
            baseline = _Baseline.load(raw) if raw is not None else None
            if baseline is None:
                # First sight (or unreadable state): learning starts at its first row.
                baseline = _Baseline(start)
                changed = True
            else:
                changed = False
            for minute in sorted(errors.get(svc, ())):
                if minute <= baseline.t:
                    continue  # already folded in (a window evaluated twice)
                count, hosts, templates = errors[svc][minute]
                finding = self._fold(svc, baseline, minute, count, hosts, templates, now)
                changed = True
                if finding is not None:
                    findings.append(finding)
            if changed:
                new_state[svc] = baseline.dump(version)
        return findings, new_state

    def _fold(
        self,
        svc: str,
        b: _Baseline,
        minute: int,
        count: int,
        hosts: dict[str, int],
        templates: dict[int, int],
        now: datetime,
    ) -> Finding | None:
        """Fold one minute with errors into `b`; return a finding when a spike starts."""
        alpha = self._alpha
        gap = minute - b.t - 1
        if gap > 0:  # `gap` minutes without errors, in closed form
            r = (1.0 - alpha) ** gap
            b.q = r * b.q + b.m * b.m * r * (1.0 - r)
            b.m *= r
        mean, var = b.m, b.q
        limit = self.threshold(mean, var)
        anomalous = count >= limit
        finding = None
        learned = minute > b.s and minute - b.s >= self._learning
        if anomalous and learned:
            if b.o is None or b.a is None or minute - b.a > self.config.rearm_minutes:
                b.o = minute
                finding = self._finding(svc, minute, count, mean, var, limit, hosts, templates, now)
            b.a = minute
        elif b.a is not None and minute - b.a > self.config.rearm_minutes:
            b.o = b.a = None
        x = min(float(count), limit)
        diff = x - mean
        incr = alpha * diff
        b.m = mean + incr
        b.q = (1.0 - alpha) * (var + diff * incr)
        b.t = minute
        return finding

    def _finding(
        self,
        svc: str,
        minute: int,
        count: int,
        mean: float,
        var: float,
        limit: float,
        hosts: dict[str, int],
        templates: dict[int, int],
        now: datetime,
    ) -> Finding:
        sd = math.sqrt(var)
        top = max(templates.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        return Finding(
            detector=self.name,
            at=now,
            started_at=from_minute(minute),
            service=svc,
            host=one_host(hosts),
            severity=Severity.ERROR,
            summary=(f"{svc}: {count} errors/min against a baseline of {fmt(mean)} ± {fmt(sd)}"),
            evidence={
                "count": count,
                "baseline_mean": round(mean, 3),
                "baseline_sd": round(sd, 3),
                "threshold": round(limit, 3),
                "k_sigma": self.config.k_sigma,
                "hosts": dict(sorted(hosts.items())),
                "top_template_id": top,
                "top_template_count": templates[top],
            },
        )


@pytest.mark.parametrize("base", [1 - 0.5 ** (1 / 60), 1 - 0.5 ** (1 / 5), 0.999, 0.5])
def test_powers_are_bit_for_bit_pythons(base: float) -> None:
    rng = random.Random(7)
    exponents = [
        0,
        1,
        2,
        3,
        59,
        60,
        61,
        1439,
        1440,
        10_080,
        *(rng.randint(0, 200_000) for _ in range(500)),
    ]
    got = powers(base, np.array(exponents, dtype=np.int64))
    assert [float(x) for x in got] == [base**e for e in exponents]


def _window(
    rng: random.Random, start: datetime, width: int, services: list[str], hosts: list[str]
) -> Window:
    rows = []
    for m in range(width):
        ts = start + m * MINUTE
        for svc in services:
            for host in hosts:
                if rng.random() < 0.4:
                    continue
                burst = rng.random() < 0.03
                n = rng.randint(20, 300) if burst else rng.randint(0, 4)
                sev = rng.choice(
                    [Severity.ERROR, Severity.CRITICAL, Severity.WARNING, Severity.INFO]
                )
                rows.append(CountRow(ts, host, svc, rng.randint(1, 6), sev, n))
    rng.shuffle(rows)
    return Window(start=start, end=start + width * MINUTE, rows=tuple(rows))


@pytest.mark.parametrize("vector_from", [0, 10**9], ids=["numpy", "floats"])
@pytest.mark.parametrize("seed", range(40))
def test_the_numpy_fold_finds_and_stores_what_the_scalar_fold_does(
    seed: int, vector_from: int
) -> None:
    # Both of error_spike's folds: numpy's arrays for many services, Python floats for few.
    rng = random.Random(seed)
    config = ErrorSpikeConfig(
        learning_period_hours=rng.choice([0, 0.5, 2]),
        half_life_minutes=rng.choice([5, 30, 60]),
        rearm_minutes=rng.choice([1, 3, 10]),
        min_count=rng.choice([1, 3, 10]),
        k_sigma=rng.choice([2.0, 4.0]),
    )
    new, old = ErrorSpike(config, vector_from=vector_from), ScalarErrorSpike(config)
    services = [f"svc-{i}" for i in range(rng.randint(1, 15))]
    hosts = [f"host-{i}" for i in range(rng.randint(1, 3))]
    state_new: dict[str, Any] = {}
    state_old: dict[str, Any] = {}
    minute = 0
    for _ in range(rng.randint(60, 200)):
        width = rng.choice([1, 1, 1, 2, 5, 17])
        if rng.random() < 0.05:
            minute -= rng.randint(1, 5)  # a window evaluated again
        if rng.random() < 0.03:
            minute += rng.randint(10, 600)  # an outage
        start = T0 + minute * MINUTE
        window = _window(rng, start, width, services, hosts)
        now = window.end + timedelta(seconds=5)
        found_new, state_new = new.evaluate(window, state_new, now)
        found_old, state_old = old.evaluate(window, state_old, now)
        assert found_new == found_old
        # What is stored: the same JSON, so a restart continues identically.
        assert json.dumps(state_new, sort_keys=True) == json.dumps(state_old, sort_keys=True)
        state_new = json.loads(json.dumps(state_new))
        state_old = json.loads(json.dumps(state_old))
        if rng.random() < 0.02:  # a corrupted row of state is relearnt the same way
            victim = rng.choice(services)
            state_new[victim] = state_old[victim] = {"v": 1, "s": "broken"}
        minute += width
