"""Run a suite of scenarios and score each one.

`evaluate_suite(dir, run)` loads every scenario under `dir`, asks `run` for its
incidents (the CLI injects the real backtest: `backtest_runner`; tests inject
their own) and scores each one with `evaluation.scoring.score`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logvigil.app.backtest import run_backtest
from logvigil.app.settings import Settings
from logvigil.core.yamlfile import ConfigError, Problem
from logvigil.evaluation.llmscore import LLMMetrics, llm_metrics
from logvigil.evaluation.scenario import Scenario, load_scenario
from logvigil.evaluation.scoring import EMPTY_METRICS, ScenarioScore, SuiteMetrics, score

#: Replays a scenario and returns the incidents it opened (their JSON shape).
Runner = Callable[[Scenario], list[dict[str, Any]]]


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's score, or why it could not be scored (`error`)."""

    name: str
    description: str
    score: ScenarioScore | None
    incidents: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.score is not None and self.score.passed


@dataclass(frozen=True)
class SuiteReport:
    results: tuple[ScenarioResult, ...]
    overall: SuiteMetrics = field(default=EMPTY_METRICS)
    #: How the model fared, when the suite ran with one (`with_llm_metrics`).
    llm: LLMMetrics | None = None

    @property
    def passed(self) -> bool:
        return (
            bool(self.results)
            and all(r.passed for r in self.results)
            and (self.llm is None or self.llm.passed)
        )


def with_llm_metrics(report: SuiteReport, model: str) -> SuiteReport:
    """`report` with the metrics of `model` over its scenarios' investigations."""
    incidents = [i for r in report.results for i in r.incidents]
    return dataclasses.replace(report, llm=llm_metrics(model, incidents))


def evaluate_suite(suite_dir: Path | str, run: Runner) -> SuiteReport:
    """Load every scenario under `suite_dir`, run it and score it.

    A scenario that fails to load or run is reported with its error (and fails
    the suite); the others still run. Raises ConfigError when `suite_dir` is
    not a directory.
    """
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise ConfigError([Problem(str(suite_dir), None, "", "no such directory")])
    results: list[ScenarioResult] = []
    for d in sorted(p for p in suite_dir.iterdir() if (p / "scenario.yaml").is_file()):
        results.append(evaluate_scenario(d, run))
    overall = EMPTY_METRICS
    for r in results:
        if r.score is not None:
            overall = overall + r.score.metrics
    return SuiteReport(tuple(results), overall)


def evaluate_scenario(directory: Path | str, run: Runner) -> ScenarioResult:
    """Load, run and score one scenario folder; errors are captured in the result."""
    directory = Path(directory)
    try:
        scenario = load_scenario(directory)
    except ConfigError as exc:
        return ScenarioResult(directory.name, "", None, error=str(exc))
    try:
        incidents = tuple(run(scenario))
        result = score(scenario.expected, incidents, hours=scenario.hours())
    except Exception as exc:  # one broken scenario must not hide the others' results
        return ScenarioResult(
            scenario.name, scenario.description, None, error=f"{type(exc).__name__}: {exc}"
        )
    return ScenarioResult(scenario.name, scenario.description, result, incidents)


def backtest_runner(
    *, settings: Settings | None = None, db_url: str | None = None, fmt: str = "auto"
) -> Runner:
    """A `Runner` over the real backtest (`logvigil.app.backtest.run_backtest`), with
    `settings` (default: every default)."""

    def run(scenario: Scenario) -> list[dict[str, Any]]:
        result = run_backtest(
            scenario.lines(),
            fmt=fmt,
            settings=settings if settings is not None else Settings(),
            inventory_path=scenario.inventory_path,
            db_url=db_url,
        )
        return [dict(i) for i in result.incidents]

    return run
