"""The synthetic homelab with faults, backtested (see `homelab_incidents`): a real store;
a local embedding server (`embed_server`); and `stores`, the stores the query and
question sets are written against (the demo's, and scenarios' of tests/scenarios)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from embed_server import embed_server  # noqa: F401 - the fixture
from homelab_incidents import homelab_db, incident_db  # noqa: F401 - the fixtures
from scenario_backtests import ScenarioBacktests

from logvigil.evaluation.demo import run_demo
from logvigil.evaluation.scenario import load_scenario

HERE = Path(__file__).parent
SCENARIOS = HERE.parent / "scenarios"
#: The sets of this folder and the key of their items.
SETS = {
    "queries.yaml": "queries",
    "queries_fresh.yaml": "queries",
    "queries_blind.yaml": "queries",
    "queries_blind2.yaml": "queries",
    "questions.yaml": "questions",
}


@pytest.fixture(scope="session")
def stores(
    tmp_path_factory: pytest.TempPathFactory, scenario_backtests: ScenarioBacktests
) -> dict[str, str]:
    """A store per name the sets use: `demo` (as `logvigil demo` makes it) or a scenario
    of tests/scenarios, backtested (once per session: the suite scores the same run)."""
    tmp = tmp_path_factory.mktemp("stores")
    wanted = {
        item["store"]
        for name, key in SETS.items()
        for item in yaml.safe_load((HERE / name).read_text())[key]
    }
    urls = {}
    for store in sorted(wanted):
        url = f"sqlite:///{tmp / store}.db"
        if store == "demo":
            run_demo(3, db_url=url)
        else:
            url = scenario_backtests(load_scenario(SCENARIOS / store)).url
        urls[store] = url
    return urls
