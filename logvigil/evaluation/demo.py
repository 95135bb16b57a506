"""`logvigil demo`: a synthetic homelab with faults injected, backtested, with a verdict per fault.

`run_demo` generates `days` days of the homelab (`synth`), injects a handful
of faults after the 24 h learning period (an OOM cascade, a full disk, a
silent service, a new error, and an sshd botnet that must not page), runs the
backtest over them (injected, so the CLI wires the real one and tests a fake)
and scores the incidents with `evaluation.scoring.score`. Each fault gets one line:

    OOM cascade on postgres (db-01) at 2026-03-03 10:00: detected in 1 min, root postgres ✓
    noise burst on nas-01 at 2026-03-03 03:00: no page ✓
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from logvigil.app.backtest import BacktestResult
from logvigil.app.backtest import run_backtest as real_backtest
from logvigil.app.settings import Settings
from logvigil.evaluation.rendering import fmt_duration
from logvigil.evaluation.scenario import ExpectedFault
from logvigil.evaluation.scoring import (
    MATCH_HORIZON,
    Detection,
    FaultOutcome,
    ScenarioScore,
    ScoredIncident,
    detect_within,
    score,
)
from logvigil.evaluation.synth import DEMO_START, Fault, FaultKind, generate_jsonl

#: The inventory of the synthetic homelab (a copy of the example inventory.yaml).
HOMELAB_INVENTORY = Path(__file__).with_name("homelab.yaml")

#: run_backtest(lines, *, fmt, settings, inventory_path, db_url) -> its result (`.incidents`)
BacktestFn = Callable[..., BacktestResult]

_LABELS = {
    FaultKind.OOM_CASCADE: "OOM cascade",
    FaultKind.DISK_FULL: "disk full",
    FaultKind.SILENT_SERVICE: "silent service",
    FaultKind.SILENT_HOST: "silent host",
    FaultKind.NEW_ERROR_TEMPLATE: "new error",
    FaultKind.ERROR_SPIKE: "error spike",
    FaultKind.NOISE_BURST: "noise burst",
    FaultKind.BENIGN_WARNING: "benign warning",
}


def demo_faults(days: int, start: datetime = DEMO_START) -> list[Fault]:
    """The faults of a `days`-day demo: on day 2 (after learning), the botnet on day 3 if any.

    Raises ValueError for fewer than 2 days (the first is the learning period).
    """
    if days < 2:
        raise ValueError(f"days must be at least 2 (the first is for learning), got: {days}")
    d2 = start + timedelta(days=1)
    noise_day = start + timedelta(days=2 if days >= 3 else 1)
    m = timedelta(minutes=1)
    return [
        Fault("oom", FaultKind.OOM_CASCADE, d2 + timedelta(hours=10), 20 * m, service="postgres"),
        Fault("disk", FaultKind.DISK_FULL, d2 + timedelta(hours=14), 90 * m, service="backup"),
        Fault(
            "silent", FaultKind.SILENT_SERVICE, d2 + timedelta(hours=17), 90 * m, service="gitea"
        ),
        Fault(
            "newerr",
            FaultKind.NEW_ERROR_TEMPLATE,
            d2 + timedelta(hours=20),
            30 * m,
            service="postgres",
        ),
        Fault(
            "botnet", FaultKind.NOISE_BURST, noise_day + timedelta(hours=3), 15 * m, host="nas-01"
        ),
    ]


@dataclass(frozen=True)
class Verdict:
    """One fault's line. `ok`: detected in time with the right root, or (noise) no page."""

    fault: Fault
    ok: bool
    text: str


@dataclass(frozen=True)
class DemoResult:
    days: int
    lines: int
    faults: tuple[Fault, ...]
    incidents: tuple[dict[str, Any], ...]
    score: ScenarioScore
    verdicts: tuple[Verdict, ...]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


def _where(f: Fault) -> str:
    if f.service is None or f.kind is FaultKind.NOISE_BURST:
        return f"{f.host}"
    return f"{f.service} ({f.host})"


def verdict(f: Fault, outcome: FaultOutcome | None, paged: list[str]) -> Verdict:
    """The line for fault `f`: its scored outcome when it pages, else whether it paged."""
    head = f"{_LABELS[f.kind]} on {_where(f)} at {f.start:%Y-%m-%d %H:%M}"
    if outcome is None:
        if paged:
            return Verdict(f, False, f"{head}: paged ✗ (incident {', '.join(paged)})")
        return Verdict(f, True, f"{head}: no page ✓")
    if outcome.detection is Detection.MISSED:
        return Verdict(f, False, f"{head}: MISSED ✗")
    text = f"{head}: detected in {fmt_duration(outcome.latency)}"
    ok = outcome.detection is Detection.IN_TIME
    if not ok:
        text += f" (LATE: limit {fmt_duration(detect_within(outcome.fault))})"
    if outcome.root_ok is not None:
        mark = "✓" if outcome.root_ok else f"✗ (expected {outcome.fault.root})"
        text += f", root {outcome.suspected_root or 'none'} {mark}"
        ok = ok and outcome.root_ok
    else:
        text += " ✓" if ok else " ✗"
    if len(outcome.incidents) > 1:
        text += f", {len(outcome.incidents)} incidents ✗"
        ok = False
    return Verdict(f, ok, text)


def _paged_by(f: Fault, incidents: Iterable[ScoredIncident]) -> list[str]:
    """Incidents with a trigger during `f` (plus the horizon) about its host or service."""
    until = f.end + MATCH_HORIZON
    out = []
    for inc in incidents:
        near = inc.triggers_in(f.start, until)
        if near and (
            (
                f.service is not None
                and f.kind is not FaultKind.NOISE_BURST
                and f.service in inc.services
            )
            or f.host in inc.hosts
        ):
            out.append(inc.id)
    return out


def run_demo(
    days: int = 3,
    db_url: str | None = None,
    run_backtest: BacktestFn | None = None,
    *,
    settings: Settings | None = None,
    seed: int = 42,
    start: datetime = DEMO_START,
) -> DemoResult:
    """Generate, backtest and judge a `days`-day homelab with faults injected.

    `run_backtest` defaults to `logvigil.app.backtest.run_backtest`, `settings` to
    every default. With `db_url` the backtest keeps its database (for `logvigil
    incidents` and `investigate` afterwards). Raises ValueError for `days` < 2.
    """
    faults = demo_faults(days, start)
    if run_backtest is None:
        run_backtest = real_backtest
    if settings is None:
        settings = Settings()
    counted = [0]

    def lines() -> Iterable[bytes]:
        for raw in generate_jsonl(days * 24 * 60, start=start, seed=seed, faults=faults):
            counted[0] += 1
            yield raw

    result = run_backtest(
        lines(),
        fmt="jsonl",
        settings=settings,
        inventory_path=HOMELAB_INVENTORY,
        db_url=db_url,
    )
    incidents = tuple(dict(i) for i in result.incidents)
    expected = [ExpectedFault.model_validate(e) for f in faults if (e := f.expected()) is not None]
    scored = score(expected, incidents, hours=days * 24.0)
    parsed = [ScoredIncident.from_json(i) for i in incidents]
    by_id = {o.fault.id: o for o in scored.outcomes}
    verdicts = tuple(
        verdict(f, by_id.get(f.id), [] if f.kind.pages else _paged_by(f, parsed)) for f in faults
    )
    return DemoResult(days, counted[0], tuple(faults), incidents, scored, verdicts)


def render_demo(result: DemoResult, console: Console | None = None) -> None:
    """Print the verdicts, the incidents and the false ones."""
    out = console if console is not None else Console()
    out.rule("[bold]LogVigil demo: a synthetic homelab with injected faults")
    out.print(
        f"{result.days} days of logs from 4 hosts ({result.lines:,} lines), "
        f"{len(result.faults)} faults injected after the 24 h learning period, "
        f"{len(result.incidents)} incident(s) opened."
    )
    for v in result.verdicts:
        out.print(f"  [{'green' if v.ok else 'red'}]{escape(v.text)}[/]")
    t = Table(title="incidents", title_justify="left")
    for col in ("id", "opened", "severity", "services", "suspected root", "first trigger"):
        t.add_column(col, overflow="fold")
    false = set(result.score.false_incidents)
    for inc in result.incidents:
        root = inc.get("suspected_root") or {}
        first = (inc.get("triggers") or [{}])[0]
        t.add_row(
            escape(str(inc.get("id")))
            + (" [red](false)[/]" if str(inc.get("id")) in false else ""),
            escape(str(inc.get("opened_at"))),
            escape(str(inc.get("severity"))),
            escape(", ".join(inc.get("services") or ())),
            escape(str(root.get("service") or root.get("host") or "-")),
            escape(f"{first.get('detector', '')}: {first.get('summary', '')}"),
        )
    out.print(t)
    ok = result.ok and not false
    out.print(
        "[bold green]every fault caught, nothing else paged[/]"
        if ok
        else f"[bold red]{sum(not v.ok for v in result.verdicts)} verdict(s) failed, "
        f"{len(false)} false incident(s)[/]"
    )


__all__ = ["HOMELAB_INVENTORY", "DemoResult", "Verdict", "demo_faults", "render_demo", "run_demo"]
