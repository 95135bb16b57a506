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

Dedup: a spike fires once when it starts; it ends after `rearm_minutes`
minutes without an anomalous minute, and only then can a new one fire.

State, per service: `{"v", "s": first seen, "t": last minute folded in,
"m": mean, "q": variance, "o": start of the current spike, "a": its last
anomalous minute}` (epoch minutes; see `docs/detectors.md`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field

from detector.detectors._common import (
    DEFAULT_LEARNING_HOURS,
    fmt,
    from_minute,
    is_amount,
    is_minute,
    one_host,
    to_minute,
    versioned,
)
from detector.detectors.base import State, Window
from logvigil.core.configbase import SeverityName, Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding


class ErrorSpikeConfig(Strict):
    """Knobs of `error_spike`; every default is meant to work as is."""

    enabled: bool = True
    #: How many standard deviations above the baseline a minute must be.
    k_sigma: Annotated[float, Field(gt=0, le=100)] = 4.0
    #: A minute with fewer errors than this is never a spike.
    min_count: Annotated[int, Field(ge=1)] = 10
    #: Half-life of the baseline, in minutes (alpha = 1 - 0.5 ** (1 / half_life)).
    half_life_minutes: Annotated[float, Field(gt=0, le=10 * 24 * 60)] = 60.0
    #: A spike has ended after this many minutes without an anomalous minute.
    rearm_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 10
    #: Lines of this severity or worse are errors.
    min_severity: SeverityName = Severity.ERROR
    #: Observation before a service's spikes count; None: the global `learning_period_hours`.
    learning_period_hours: Annotated[float | None, Field(ge=0, le=24 * 365)] = None


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


class ErrorSpike:
    """Fires when a service's errors per minute jump far above its EWMA baseline."""

    config_model: ClassVar[type[Strict]] = ErrorSpikeConfig
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
