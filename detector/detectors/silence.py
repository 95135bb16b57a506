"""silence: a service (or a whole host) stopped logging although it always logs.

Cadence is learnt per (service, host) pair as two EWMAs over minutes: `p`, the
share of minutes with at least one line, and `r`, the lines per minute. Both
are bias-corrected for the pair's age (an EWMA started at zero underestimates
until it has seen a few half-lives). After `N` minutes without a line a pair
is silent when all of:

- `N >= min_silent_minutes`,
- `p * N >= min_expected_active_minutes`: the pair would have logged in that
  many of the minutes (for a Poisson process the chance of none is e^-10 at
  the default),
- `r * N >= min_expected_lines`.

The smallest such `N` is computed when the pair logs and stored as the minute
the silence becomes due (`d`), so a tick only compares one int per pair and a
pair that logs steadily is never examined. Quiet services
(`ServiceInfo.quiet`) never fire on their own.

A host's services are the pairs observed on it (the inventory cannot add a
pair without a cadence). When a due pair's host has at least
`host_min_services` observed pairs and none of them logged after the last one
of the due pairs stopped, the whole host is silent: one finding for the host
(service None) instead of one per service.

Dedup: a pair's silent stretch fires once; `f` records the last-seen minute
of the stretch that fired, so a new stretch starts only after a new line. A
stretch that both starts and ends inside one multi-minute window fires when
its end is seen (per service, not grouped by host).

State, per service: `{"v", "h": {host: {"t": last minute with a line, "a":
first minute seen, "p", "r": EWMAs as of t, "d": due minute, "f": fired}}}`.
A pair silent for `forget_after_days` is dropped; a service without pairs
left is dropped from the state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field

from detector.detectors._common import (
    fmt,
    from_minute,
    is_amount,
    is_minute,
    to_minute,
    versioned,
)
from detector.detectors.base import State, Window
from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

_Pair = dict[str, Any]


class SilenceConfig(Strict):
    """Knobs of `silence`."""

    enabled: bool = True
    #: A silence is at least this many minutes long.
    min_silent_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 5
    #: Minutes with a line the cadence predicts over the silence (e^-this: chance of none).
    min_expected_active_minutes: Annotated[float, Field(gt=0, le=10_000)] = 10.0
    #: Lines the cadence predicts over the silence.
    min_expected_lines: Annotated[float, Field(ge=0)] = 20.0
    #: Half-life of the cadence, in hours.
    half_life_hours: Annotated[float, Field(gt=0, le=24 * 90)] = 6.0
    #: A pair must have been observed this long before its silence counts.
    min_history_minutes: Annotated[int, Field(ge=1, le=30 * 24 * 60)] = 60
    #: A host-level finding needs this many observed services on the host.
    host_min_services: Annotated[int, Field(ge=1)] = 2
    #: A service whose usual gap between active minutes is at most this long must itself
    #: be overdue (silent for twice its usual gap) before its host counts as silent;
    #: rarer services are no evidence either way.
    host_evidence_max_gap_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30.0
    #: A pair silent this long is forgotten (and never fires again until it logs).
    forget_after_days: Annotated[float, Field(gt=0, le=3650)] = 7.0


def _load(raw: Mapping[str, Any] | None) -> dict[str, _Pair] | None:
    """Return a copy of the pairs in `raw`, or None when it is malformed."""
    if raw is None:
        return None
    hosts = raw.get("h")
    if not isinstance(hosts, Mapping):
        return None
    out: dict[str, _Pair] = {}
    for host, pair in hosts.items():
        if not isinstance(host, str) or not isinstance(pair, Mapping):
            return None
        t, a, p, r = pair.get("t"), pair.get("a"), pair.get("p"), pair.get("r")
        d, f = pair.get("d"), pair.get("f")
        if not (is_minute(t) and is_minute(a) and is_amount(p) and is_amount(r)):
            return None
        if (d is not None and not is_minute(d)) or (f is not None and not is_minute(f)):
            return None
        out[host] = dict(pair)
    return out


class SilenceDetector:
    """Fires when a service, or every service of a host, stops logging against its cadence."""

    config_model: ClassVar[type[Strict]] = SilenceConfig
    name: ClassVar[str] = "silence"
    state_version: ClassVar[int] = 1

    def __init__(self, config: SilenceConfig | None = None) -> None:
        self.config = config if config is not None else SilenceConfig()
        self._alpha = 1.0 - 0.5 ** (1.0 / (self.config.half_life_hours * 60))
        self._forget = round(self.config.forget_after_days * 24 * 60)

    # -- the cadence --------------------------------------------------------

    def _estimates(self, pair: _Pair) -> tuple[float, float]:
        """Return the bias-corrected (share of active minutes, lines/min) as of `t`."""
        age = pair["t"] - pair["a"] + 1
        corr = 1.0 - (1.0 - self._alpha) ** max(age, 1)
        return pair["p"] / corr, pair["r"] / corr

    def _due(self, pair: _Pair) -> int | None:
        """Return the window end at which `pair` is silent if it logs no more, or None."""
        c = self.config
        if pair["t"] - pair["a"] + 1 < c.min_history_minutes:
            return None
        p, r = self._estimates(pair)
        if p <= 0 or (r <= 0 and c.min_expected_lines > 0):
            return None
        n = max(
            float(c.min_silent_minutes),
            c.min_expected_active_minutes / p,
            c.min_expected_lines / r if c.min_expected_lines > 0 else 0.0,
        )
        if n > self._forget:
            return None
        return pair["t"] + math.ceil(n - 1e-9) + 1

    def _fold(self, pair: _Pair, minute: int, count: int) -> None:
        """Fold the minutes since `t` (silent) and `minute` (with `count` lines) into `pair`."""
        keep = 1.0 - self._alpha
        decay = keep ** (minute - pair["t"])  # the silent minutes, then this one
        pair["p"] = pair["p"] * decay + self._alpha
        pair["r"] = pair["r"] * decay + self._alpha * count
        pair["t"] = minute
        pair.pop("f", None)
        pair.pop("hs", None)
        d = self._due(pair)
        if d is None:
            pair.pop("d", None)
        else:
            pair["d"] = d

    # -- evaluate -----------------------------------------------------------

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the silences found up to the end of `window` and the new state."""
        new_state: dict[str, dict[str, Any]] = dict(state)  # type: ignore[arg-type]
        version = self.state_version
        end = to_minute(window.end)
        services = window.services
        findings: list[Finding] = []

        # Lines per (service, host, minute); keys are few (aggregated rows).
        lines: dict[tuple[str, str, datetime], int] = {}
        for row in window.rows:
            if row.count > 0:
                k = (row.service, row.host, row.minute)
                lines[k] = lines.get(k, 0) + row.count
        per_pair: dict[str, dict[str, list[tuple[int, int]]]] = {}
        for (svc, host, ts), count in lines.items():
            per_pair.setdefault(svc, {}).setdefault(host, []).append((to_minute(ts), count))

        loaded: dict[str, dict[str, _Pair]] = {}
        for svc, hosts in per_pair.items():
            pairs = _load(versioned(state, svc, version)) or {}
            quiet = self._quiet(services, svc)
            for host, minutes in hosts.items():
                minutes.sort()
                pair = pairs.get(host)
                if pair is None:
                    first = minutes[0][0]
                    pair = pairs[host] = {"t": first - 1, "a": first, "p": 0.0, "r": 0.0}
                for minute, count in minutes:
                    if minute <= pair["t"]:
                        continue  # already folded in
                    d = pair.get("d")
                    if d is not None and minute >= d and pair.get("f") != pair["t"] and not quiet:
                        findings.append(
                            self._service_silent(svc, host, pair, minute, now, resumed=True)
                        )
                    self._fold(pair, minute, count)
            loaded[svc] = pairs
            new_state[svc] = {"v": version, "h": pairs}

        # Pairs silent at the end of the window, and every pair per host.
        due: list[tuple[str, str, _Pair]] = []
        by_host: dict[str, list[tuple[str, _Pair]]] = {}
        for svc in list(new_state):
            pairs = loaded.get(svc)
            if pairs is None:
                pairs = _load(versioned(new_state, svc, version))
                if pairs is None:
                    del new_state[svc]  # unreadable or of another version: relearn
                    continue
            changed = svc in loaded
            for host in list(pairs):
                pair = pairs[host]
                if end - pair["t"] > self._forget:
                    del pairs[host]
                    changed = True
                    continue
                by_host.setdefault(host, []).append((svc, pair))
                d = pair.get("d")
                if d is not None and d <= end and pair.get("f") != pair["t"]:
                    due.append((svc, host, pair))
            loaded[svc] = pairs
            if changed:
                if pairs:
                    new_state[svc] = {"v": version, "h": pairs}
                else:
                    del new_state[svc]

        # Hosts whose services were already reported silent one by one may since have
        # become silent as a whole (a slower service is now overdue too).
        pending = {
            host
            for host, members in by_host.items()
            if any(p.get("f") == p["t"] and p.get("hs") is None for _, p in members)
        }
        if due or pending:
            before = {id(p): (p.get("f"), p.get("hs")) for _, p in _members(by_host, due, pending)}
            findings.extend(self._silences(due, by_host, services, end, now, pending))
            for svc, pair in _members(by_host, due, pending):
                if (pair.get("f"), pair.get("hs")) != before[id(pair)]:
                    new_state[svc] = {"v": version, "h": loaded[svc]}
        findings.sort(key=lambda f: (f.started_at, f.host or "", f.service or ""))
        return findings, new_state

    @staticmethod
    def _quiet(services: Mapping[str, Any], svc: str) -> bool:
        info = services.get(svc)
        return bool(info is not None and info.quiet)

    def _overdue(self, pair: _Pair, end: int) -> bool:
        """Whether `pair` has been silent for twice its usual gap (or is too rare to say)."""
        p, _ = self._estimates(pair)
        gap = 1.0 / p if p > 0 else math.inf
        if gap > self.config.host_evidence_max_gap_minutes:
            return True  # too rare to be evidence either way
        return end - pair["t"] - 1 >= max(self.config.min_silent_minutes, 2.0 * gap)

    def _host_is_silent(
        self, members: list[tuple[str, _Pair]], services: Mapping[str, Any], end: int
    ) -> bool:
        """Every service of the host is silent, each by its own rhythm."""
        if len(members) < self.config.host_min_services:
            return False
        evidence = [p for s, p in members if not self._quiet(services, s)]
        return bool(evidence) and all(self._overdue(p, end) for p in evidence)

    def _silences(
        self,
        due: list[tuple[str, str, _Pair]],
        by_host: dict[str, list[tuple[str, _Pair]]],
        services: Mapping[str, Any],
        end: int,
        now: datetime,
        pending: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> list[Finding]:
        """Findings for the pairs silent at `end`: per host when the whole host is."""
        out: list[Finding] = []
        due_by_host: dict[str, list[tuple[str, _Pair]]] = {host: [] for host in pending}
        for svc, host, pair in due:
            due_by_host.setdefault(host, []).append((svc, pair))
        for host in sorted(due_by_host):
            candidates = due_by_host[host]
            members = by_host.get(host, [])
            stopped = max(p["t"] for _, p in members) if members else 0
            if (
                members
                and all(p.get("hs") != p["t"] for _, p in members)
                and self._host_is_silent(members, services, end)
            ):
                out.append(self._host_silent(host, members, stopped, end, now))
                for _, p in members:
                    p["f"] = p["t"]
                    p["hs"] = p["t"]
                continue
            loud = [(s, p) for s, p in candidates if not self._quiet(services, s)]
            for svc, pair in sorted(loud, key=lambda sp: sp[0]):
                out.append(self._service_silent(svc, host, pair, end, now))
                pair["f"] = pair["t"]
        return out

    def _expected(self, pair: _Pair, silent: int) -> tuple[float, float]:
        p, r = self._estimates(pair)
        return p * silent, r * silent

    def _service_silent(
        self, svc: str, host: str, pair: _Pair, end: int, now: datetime, *, resumed: bool = False
    ) -> Finding:
        """A service silent since its last line: still (up to `end`), or until it resumed at
        minute `end` when `resumed`."""
        silent = end - pair["t"] - 1
        active, expected = self._expected(pair, silent)
        evidence = {
            "silent_minutes": silent,
            "expected_lines": round(expected, 1),
            "expected_active_minutes": round(active, 1),
            "last_seen": from_minute(pair["t"]).isoformat(),
        }
        if resumed:
            evidence["resumed_at"] = from_minute(end).isoformat()
            how = f"was silent for {silent} min until {from_minute(end):%H:%M}"
        else:
            how = f"silent for {silent} min"
        return Finding(
            detector=self.name,
            at=now,
            started_at=from_minute(pair["t"] + 1),
            service=svc,
            host=host,
            severity=Severity.WARNING,
            summary=f"{svc} on {host} {how} (expected ~{fmt(expected)} lines)",
            kind="silent_service",
            evidence=evidence,
        )

    def _host_silent(
        self,
        host: str,
        members: list[tuple[str, _Pair]],
        stopped: int,
        end: int,
        now: datetime,
    ) -> Finding:
        silent = end - stopped - 1
        names = sorted({svc for svc, _ in members})
        expected = sum(self._expected(p, end - p["t"] - 1)[1] for _, p in members)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return Finding(
            detector=self.name,
            at=now,
            started_at=from_minute(stopped + 1),
            service=None,
            host=host,
            severity=Severity.ERROR,
            summary=(
                f"host {host} silent for {silent} min: all {len(names)} services "
                f"stopped logging ({shown}; expected ~{fmt(expected)} lines)"
            ),
            kind="silent_host",
            evidence={
                "silent_minutes": silent,
                "services": names,
                "expected_lines": round(expected, 1),
                "last_seen": from_minute(stopped).isoformat(),
            },
        )


def _members(
    by_host: dict[str, list[tuple[str, _Pair]]],
    due: list[tuple[str, str, _Pair]],
    pending: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[tuple[str, _Pair]]:
    """Every pair on a host that has a due pair, or is pending a host-level check."""
    hosts = {host for _, host, _ in due} | pending
    return [m for host in hosts for m in by_host.get(host, [])]
