"""The evaluation suite through the real backtest: every fault in time, nothing false, one each.

Each scenario folder is one test, so a failure names the scenario; the message
lists the faults' outcomes and the false incidents with their triggers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_backtests import ScenarioBacktests

from logvigil.evaluation.rendering import fmt_duration
from logvigil.evaluation.scenario import Scenario
from logvigil.evaluation.suite import evaluate_scenario

SUITE = Path(__file__).resolve().parent
SCENARIOS = sorted(p.name for p in SUITE.iterdir() if (p / "scenario.yaml").is_file())


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_the_detectors_pass_the_scenario(name: str, scenario_backtests: ScenarioBacktests) -> None:
    # The real backtest, run once per session (the search sets query the same store).
    def run(scenario: Scenario) -> list[dict]:
        return [dict(i) for i in scenario_backtests(scenario).incidents]

    result = evaluate_scenario(SUITE / name, run)
    assert result.error is None, result.error
    assert result.score is not None
    lines = []
    for o in result.score.outcomes:
        lines.append(
            f"fault {o.fault.id} ({o.fault.kind.value}): {o.detection.value} "
            f"after {fmt_duration(o.latency)}, incidents {list(o.incidents)}, "
            f"root {o.suspected_root} (expected {o.fault.root})"
        )
    by_id = {str(i.get("id")): i for i in result.incidents}
    for iid in result.score.false_incidents:
        inc = by_id[iid]
        triggers = "; ".join(
            f"{t.get('at')} {t.get('detector')} {t.get('service') or t.get('host')}: "
            f"{t.get('summary')}"
            for t in inc.get("triggers") or ()
        )
        lines.append(f"false incident {iid} opened {inc.get('opened_at')}: {triggers}")
    failed = [r for r in result.score.metrics.requirements() if not r.passed]
    assert not failed, "\n".join([", ".join(f"{r.name} ({r.detail})" for r in failed), *lines])
