"""`logvigil demo` and `logvigil eval`: replay synthetic faults or a scenario suite, scored."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, Protocol

import typer
from rich.console import Console
from rich.markup import escape

from graph.store import GraphError
from investigate.llm import model_name
from logvigil.app.settings import Settings
from logvigil.cli.kit import (
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigOpt,
    DbOpt,
    err,
    fail,
    fail_config,
    out,
    settings_or_exit,
)
from logvigil.cli.llmopts import LlmContextOpt, LlmOpt, LlmUrlOpt, runner_or_exit, with_llm
from logvigil.core.yamlfile import ConfigError
from logvigil.evaluation.demo import render_demo, run_demo
from logvigil.evaluation.real_rendering import render as render_real
from logvigil.evaluation.real_rendering import to_json as real_json
from logvigil.evaluation.reallogs import evaluate_real
from logvigil.evaluation.rendering import render, to_json
from logvigil.evaluation.suite import (
    SuiteReport,
    backtest_runner,
    evaluate_suite,
    with_llm_metrics,
)
from logvigil.store.database import StoreError

DEFAULT_SUITE = Path("tests/scenarios")


class _Verdict(Protocol):
    @property
    def passed(self) -> bool: ...


def _report[R: _Verdict](
    evaluate: Callable[[], R],
    json_of: Callable[[R], object],
    render_it: Callable[[R, Console], None],
    as_json: bool,
) -> NoReturn:
    """Run one evaluation, print it (JSON or text) and exit by its verdict."""
    try:
        report = evaluate()
    except ConfigError as exc:
        fail_config(exc)
    if as_json:
        sys.stdout.write(json.dumps(json_of(report)) + "\n")
    else:
        render_it(report, out)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_PARTIAL)


def demo(
    days: Annotated[
        int, typer.Option(help="days of synthetic logs (the first is learning)", min=2, max=30)
    ] = 3,
    db: DbOpt = None,
) -> None:
    """Backtest a bundled synthetic homelab with injected faults; a verdict per fault.

    Runs on embedded defaults (SQLite, embedded FalkorDB, no language model,
    console output) in a temporary directory. With --db the incidents stay in
    that database for `logvigil incidents`.
    """
    settings = Settings()
    err.print(f"generating and replaying {days} days of a synthetic homelab...", highlight=False)
    try:
        result = run_demo(days, db_url=db, settings=settings)
    except (StoreError, GraphError) as exc:
        fail(str(exc))
    render_demo(result, out)
    if db:
        out.print(
            f"[dim]incidents kept in {escape(db)}: uv run logvigil incidents --db {escape(db)}[/]"
        )


def eval_suite(
    suite: Annotated[
        Path, typer.Option(help="folder of scenarios (each with scenario.yaml)")
    ] = DEFAULT_SUITE,
    real: Annotated[
        Path | None,
        typer.Option(
            "--real",
            help="instead: a folder of real logs, each with a <log>.labels.yaml beside it",
        ),
    ] = None,
    config: ConfigOpt = None,
    llm: LlmOpt = None,
    llm_url: LlmUrlOpt = None,
    llm_context: LlmContextOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Replay every scenario of a suite and score detection against its expected faults.

    Prints recall, false incidents per day, time to detect (p50/p95), incidents
    per fault and root accuracy; exits 1 when a requirement fails. With --real,
    replays real log files (no inventory) and scores them against their hand-made
    labels: must-page events paged within 10 minutes, false pages per host-day,
    incidents per event (docs/evaluation.md).

    With --llm (and --llm-url), every incident is investigated with that model too:
    the share of usable (schema-valid, not degraded) answers, how often the model's
    root agrees with the deterministic one, tokens and seconds per investigation and
    per call (docs/investigation.md).
    """
    settings = with_llm(settings_or_exit(config), llm, llm_url, llm_context)
    runner_or_exit(settings)  # a model that cannot be reached as configured fails here, once
    if real is not None:
        _report(lambda: evaluate_real(real, settings), real_json, render_real, as_json)
    model = model_name(settings.llm)

    def evaluate() -> SuiteReport:
        report = evaluate_suite(suite, backtest_runner(settings=settings))
        return report if model == "none" else with_llm_metrics(report, model)

    _report(evaluate, to_json, render, as_json)
