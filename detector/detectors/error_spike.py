"""error_spike: a service logs far more errors in a minute than its baseline.

Per service, an exponentially weighted moving average (EWMA) of the errors per
minute and of their variance. A minute is anomalous when its error count `c`
reaches all three of:

- `mean + k_sigma * sd` (the learned spread),
- `mean + k_sigma * sqrt(mean + 3/8) + k_sigma**2 / 4`: the same k-sigma test
  on the Anscombe (variance-stabilised) scale of a Poisson count. It is the
  floor for small and quiet baselines, where the learned spread is near zero:
  over a baseline of 0 it is 6.45 errors at k=4, over a steady 3/min it is 15;
- `min_count`.

Minutes without an error row are zeros; they are folded in lazily, in closed
form, the next time the service logs an error, so a service without errors
costs nothing and its state does not change. An anomalous minute updates the
baseline with the threshold instead of its count (winsorised), so one burst
of a million errors does not blind the detector for hours while a lasting
change of level is still learnt.

A window's services are folded together: numpy arrays hold one baseline per
service, and each step folds the next minute of every service that has one
(`ErrorSpike._fold`). Each service's arithmetic keeps the order of operations of
a fold of that service alone, and `powers` matches Python's `**`, so the floats
(and the persisted state) are bit for bit those of a one-service-at-a-time fold.

Dedup: a spike fires once when it starts; it ends after `rearm_minutes`
minutes without an anomalous minute, and only then can a new one fire.

State, per service: `{"v", "s": first seen, "t": last minute folded in,
"m": mean, "q": variance, "o": start of the current spike, "a": its last
anomalous minute}` (epoch minutes; see `docs/detectors.md`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field

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
from detector.detectors.base import ActsOnLines, State, StateDraft, Window
from logvigil.core.configbase import SeverityName, Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class ErrorSpikeConfig(Strict):
    """Knobs of `error_spike`; every default is meant to work as is."""

    enabled: bool = True
    #: How many standard deviations above the baseline a minute must be.
    k_sigma: Annotated[float, Field(gt=0, le=100)] = 4.0
    #: A minute with fewer errors than this is never a spike.
    min_count: Annotated[int, Field(ge=1, le=1_000_000)] = 10
    #: Half-life of the baseline, in minutes (alpha = 1 - 0.5 ** (1 / half_life)).
    half_life_minutes: Annotated[float, Field(gt=0, le=10 * 24 * 60)] = 60.0
    #: A spike has ended after this many minutes without an anomalous minute.
    rearm_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 10
    #: Lines of this severity or worse are errors.
    min_severity: SeverityName = Severity.ERROR
    #: Observation before a service's spikes count; None: the global `learning_period_hours`.
    learning_period_hours: Annotated[float | None, Field(ge=0, le=24 * 365)] = None


#: A service's errors in one minute: the count, and the count per host and per template.
_Cell = list[Any]

#: Services folding in one tick from which numpy's arrays pay (below: Python floats,
#: faster per tick up to about 256 services and without numpy's 0.2 s import;
#: `bench/bench_tick_detectors.py --fold` measures both).
VECTOR_FROM = 256

#: `o` and `a` of a baseline without a current spike (any minute is more than
#: `rearm_minutes` after it).
_NO_SPIKE = -(1 << 40)


def _load(raw: Mapping[str, Any]) -> tuple[int, int, float, float, int, int] | None:
    """Return the `(s, t, m, q, o, a)` of the baseline in `raw` (`o` and `a` are
    `_NO_SPIKE` without a spike), or None when any field is malformed."""
    s, t, m, q = raw.get("s"), raw.get("t", None), raw.get("m", 0.0), raw.get("q", 0.0)
    o, a = raw.get("o"), raw.get("a")
    if not is_minute(s) or not is_amount(m) or not is_amount(q):
        return None
    if t is not None and not is_minute(t):
        return None
    if o is None and a is None:
        o = a = _NO_SPIKE
    elif o is None or a is None or not (is_minute(o) and is_minute(a)):
        return None
    return s, t if t is not None else s - 1, float(m), float(q), o, a


@dataclass(slots=True)
class _Folds:
    """The services with minutes to fold into their baselines, as columns.

    Per service: `minutes` (sorted, after its `t`) index `errors`; `out` is its new
    state, which `ErrorSpike._fold` completes; `s` ... `a` are its baseline's fields.
    """

    svc: list[str] = field(default_factory=list)
    minutes: list[list[int]] = field(default_factory=list)
    errors: list[dict[int, _Cell]] = field(default_factory=list)
    out: list[dict[str, Any]] = field(default_factory=list)
    s: list[int] = field(default_factory=list)
    t: list[int] = field(default_factory=list)
    m: list[float] = field(default_factory=list)
    q: list[float] = field(default_factory=list)
    o: list[int] = field(default_factory=list)
    a: list[int] = field(default_factory=list)


class ErrorSpike(ActsOnLines):
    """Fires when a service's errors per minute jump far above its EWMA baseline."""

    config_model: ClassVar[type[Strict]] = ErrorSpikeConfig
    name: ClassVar[str] = "error_spike"
    state_version: ClassVar[int] = 1

    def __init__(
        self, config: ErrorSpikeConfig | None = None, *, vector_from: int = VECTOR_FROM
    ) -> None:
        """`vector_from`: fold with numpy arrays from this many services folding at once
        (fewer go one by one in Python floats, with the same result bit for bit)."""
        self.config = config if config is not None else ErrorSpikeConfig()
        c = self.config
        self._alpha = 1.0 - 0.5 ** (1.0 / c.half_life_minutes)
        hours = c.learning_period_hours
        self._learning = round(60 * (DEFAULT_LEARNING_HOURS if hours is None else hours))
        self.vector_from = vector_from

    def threshold(
        self, mean: npt.NDArray[np.float64], var: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Return, per series, the error count at or above which a minute is a spike."""
        import numpy as np  # deferred: heavy (~15 MB, 80 ms); a tick needs it, commands do not

        k = self.config.k_sigma
        learned = mean + k * np.sqrt(var)
        poisson = mean + k * np.sqrt(mean + 0.375) + k * k / 4
        return np.maximum(np.maximum(learned, poisson), float(self.config.min_count))

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the spikes of `window` (minute by minute) and the new state."""
        new_state = StateDraft(state)
        if not window.rows:
            return [], new_state
        version = self.state_version
        min_sev = self.config.min_severity

        # Errors per (service, minute), with the hosts and templates behind them.
        errors: dict[str, dict[int, _Cell]] = {}
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

        folds = _Folds()
        for svc, start in first_row.items():
            raw = versioned(state, svc, version)
            loaded = _load(raw) if raw is not None else None
            # First sight (or unreadable state): learning starts at its first row.
            s, t, m, q, o, a = loaded or (start, start - 1, 0.0, 0.0, _NO_SPIKE, _NO_SPIKE)
            per_min = errors.get(svc)
            # A minute at or before `t` is already folded in (a window evaluated twice).
            minutes = sorted(x for x in per_min if x > t) if per_min else None
            if per_min and minutes:
                out = new_state[svc] = {"v": version, "s": s}
                folds.svc.append(svc)
                folds.minutes.append(minutes)
                folds.errors.append(per_min)
                folds.out.append(out)
                folds.s.append(s)
                folds.t.append(t)
                folds.m.append(m)
                folds.q.append(q)
                folds.o.append(o)
                folds.a.append(a)
            elif loaded is None:
                new_state[svc] = {"v": version, "s": s}
        return self._fold(folds, now), new_state

    def needs_tick(self, window: Window, state: State) -> bool:
        """Errors are judged in their minute's tick. Other lines only start a service's
        learning (at its first row's minute, whenever it is evaluated)."""
        min_sev = self.config.min_severity
        return any(r.severity >= min_sev for r in window.rows)

    def _fold(self, folds: _Folds, now: datetime) -> list[Finding]:
        """Fold each service's minutes with errors into its baseline, every service at once,
        one minute of each per step; complete `folds.out`; return the spikes that start,
        in the order of `folds`, then of minutes."""
        if not folds.svc:
            return []
        if len(folds.svc) < self.vector_from:
            return self._fold_each(folds, now)
        import numpy as np  # deferred: heavy (~15 MB, 0.2 s); many services at once need it

        alpha, keep = self._alpha, 1.0 - self._alpha
        rearm = self.config.rearm_minutes
        steps = max(map(len, folds.minutes))
        # Longest first (stable), so that the services still folding at step k are a prefix.
        rank = list(range(len(folds.svc)))
        if steps > 1:
            rank.sort(key=lambda i: -len(folds.minutes[i]))

        def ranked(values: list[Any]) -> list[Any]:
            return values if steps == 1 else [values[i] for i in rank]

        todo, errors = ranked(folds.minutes), ranked(folds.errors)
        s, t = np.array(ranked(folds.s), np.int64), np.array(ranked(folds.t), np.int64)
        m, q = np.array(ranked(folds.m), np.float64), np.array(ranked(folds.q), np.float64)
        o, a = np.array(ranked(folds.o), np.int64), np.array(ranked(folds.a), np.int64)
        started: list[tuple[int, int, Finding]] = []
        n = len(todo)
        for k in range(steps):
            while len(todo[n - 1]) <= k:
                n -= 1
            minutes = [ms[k] for ms in todo[:n]]
            minute = np.array(minutes, dtype=np.int64)
            count = np.array(
                [e[x][0] for e, x in zip(errors[:n], minutes, strict=True)], dtype=np.float64
            )
            mean, var = m[:n], q[:n]
            gap = minute - t[:n] - 1
            quiet = gap > 0
            if quiet.any():  # `gap` minutes without errors, in closed form
                r = powers(keep, gap)
                var = np.where(quiet, r * var + mean * mean * r * (1.0 - r), var)
                mean = np.where(quiet, mean * r, mean)
            limit = self.threshold(mean, var)
            learned = (minute > s[:n]) & (minute - s[:n] >= self._learning)
            hit = (count >= limit) & learned
            rearmed = minute - a[:n] > rearm
            fire = hit & rearmed
            ended = ~hit & rearmed
            for j in np.flatnonzero(fire).tolist():
                i, at = rank[j], minutes[j]
                spike = (float(mean[j]), float(var[j]), float(limit[j]))
                finding = self._finding(folds.svc[i], at, *spike, errors[j][at], now)
                started.append((i, at, finding))
            o[:n] = np.where(fire, minute, np.where(ended, _NO_SPIKE, o[:n]))
            a[:n] = np.where(hit, minute, np.where(ended, _NO_SPIKE, a[:n]))
            # An anomalous minute is learnt as the threshold (winsorised).
            diff = np.minimum(count, limit) - mean
            incr = alpha * diff
            m[:n] = mean + incr
            q[:n] = keep * (var + diff * incr)
            t[:n] = minute
        for i, tj, mj, qj, oj, aj in zip(
            rank, t.tolist(), m.tolist(), q.tolist(), o.tolist(), a.tolist(), strict=True
        ):
            out = folds.out[i]
            out["t"], out["m"], out["q"] = tj, mj, qj
            if oj != _NO_SPIKE:
                out["o"], out["a"] = oj, aj
        started.sort(key=lambda item: item[:2])
        return [f for _, _, f in started]

    def _fold_each(self, folds: _Folds, now: datetime) -> list[Finding]:
        """`_fold`, one service and one minute at a time in Python floats: the same
        operations in the same order as the arrays' (IEEE doubles both), so the same
        baselines bit for bit, without numpy's import for the few services of a tick."""
        alpha, keep = self._alpha, 1.0 - self._alpha
        rearm, k = self.config.rearm_minutes, self.config.k_sigma
        floor = float(self.config.min_count)
        started: list[Finding] = []
        for i, minutes in enumerate(folds.minutes):
            errors, s = folds.errors[i], folds.s[i]
            t, mean, var, o, a = folds.t[i], folds.m[i], folds.q[i], folds.o[i], folds.a[i]
            for minute in minutes:
                count = float(errors[minute][0])
                gap = minute - t - 1
                if gap > 0:  # `gap` minutes without errors, in closed form
                    r = keep**gap
                    var = r * var + mean * mean * r * (1.0 - r)
                    mean = mean * r
                learned = mean + k * math.sqrt(var)
                poisson = mean + k * math.sqrt(mean + 0.375) + k * k / 4
                limit = max(learned, poisson, floor)
                hit = count >= limit and minute > s and minute - s >= self._learning
                rearmed = minute - a > rearm
                if hit and rearmed:
                    cell = errors[minute]
                    started.append(self._finding(folds.svc[i], minute, mean, var, limit, cell, now))
                    o = minute
                elif not hit and rearmed:
                    o = _NO_SPIKE
                if hit:
                    a = minute
                elif rearmed:
                    a = _NO_SPIKE
                diff = min(count, limit) - mean
                incr = alpha * diff
                mean, var, t = mean + incr, keep * (var + diff * incr), minute
            out = folds.out[i]
            out["t"], out["m"], out["q"] = t, mean, var
            if o != _NO_SPIKE:
                out["o"], out["a"] = o, a
        return started

    def _finding(
        self,
        svc: str,
        minute: int,
        mean: float,
        var: float,
        limit: float,
        cell: _Cell,
        now: datetime,
    ) -> Finding:
        """The finding of a spike starting at `minute`, over a baseline of `mean` and `var`."""
        count, hosts, templates = cell
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
