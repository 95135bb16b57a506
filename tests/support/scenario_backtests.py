"""The scenarios of tests/scenarios, each backtested once per test session.

The suite (tests/scenarios) scores a scenario's incidents and the search sets
(tests/search) query its store: both used to backtest every scenario, 8 to 14 s each
on a CI machine, so each replay ran twice. `ScenarioBacktests` runs the real backtest
of a scenario into a SQLite store the first time it is asked for, and keeps the store's
URL and the incidents the replay returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logvigil.evaluation.scenario import Scenario
from logvigil.evaluation.suite import backtest_runner


@dataclass(frozen=True)
class Backtested:
    """A scenario's store (a SQLite URL) and the incidents its backtest returned."""

    url: str
    incidents: tuple[dict[str, Any], ...]


class ScenarioBacktests:
    """`backtests(scenario)`: the scenario's `Backtested`, replayed on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._done: dict[Path, Backtested] = {}

    def __call__(self, scenario: Scenario) -> Backtested:
        key = scenario.directory.resolve()
        done = self._done.get(key)
        if done is None:
            url = f"sqlite:///{self.directory / scenario.name}.db"
            incidents = backtest_runner(db_url=url)(scenario)  # the suite's own runner
            done = self._done[key] = Backtested(url, tuple(incidents))
        return done
