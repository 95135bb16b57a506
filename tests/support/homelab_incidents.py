"""Real incidents for the investigation and `investigate` CLI tests: the synthetic homelab
with faults, backtested.

The backtest runs once per session into a template SQLite file (~6 s); each
test module copies it, so reports and status changes stay local to a module.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from detector.incidents.manager import IncidentManager
from logvigil.app.backtest import run_backtest
from logvigil.app.settings import Settings
from logvigil.evaluation.demo import HOMELAB_INVENTORY
from logvigil.evaluation.synth import Fault, FaultKind, generate_jsonl

START = datetime(2026, 3, 2, tzinfo=UTC)
DAY2 = START + timedelta(days=1)
FAULTS = [
    Fault(
        "oom",
        FaultKind.OOM_CASCADE,
        DAY2 + timedelta(hours=1),
        timedelta(minutes=15),
        service="postgres",
    ),
    Fault(
        "disk",
        FaultKind.DISK_FULL,
        DAY2 + timedelta(hours=3),
        timedelta(minutes=20),
        service="backup",
    ),
    Fault(
        "spike",
        FaultKind.ERROR_SPIKE,
        DAY2 + timedelta(hours=5),
        timedelta(minutes=10),
        service="postgres",
    ),
    # Two unrelated services spiking together on one host: nothing names a root.
    Fault(
        "twin",
        FaultKind.ERROR_SPIKE,
        DAY2 + timedelta(hours=4),
        timedelta(minutes=10),
        service="nextcloud",
    ),
    Fault(
        "twin-gitea",
        FaultKind.ERROR_SPIKE,
        DAY2 + timedelta(hours=4),
        timedelta(minutes=10),
        service="gitea",
    ),
]


@pytest.fixture(scope="session")
def homelab_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backtested database (do not write to it: copy it with `incident_db`)."""
    path = tmp_path_factory.mktemp("homelab") / "homelab.db"
    lines = generate_jsonl(30 * 60, start=START, seed=3, faults=FAULTS)
    run_backtest(
        lines,
        fmt="jsonl",
        settings=Settings(),
        inventory_path=HOMELAB_INVENTORY,
        db_url=f"sqlite:///{path}",
    )
    return path


@pytest.fixture(scope="module")
def incident_db(homelab_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the backtested database for one test module."""
    copy = tmp_path_factory.mktemp("db") / "incidents.db"
    shutil.copy(homelab_db, copy)
    return copy


@pytest.fixture(scope="module")
def find_incident(incident_db: Path) -> Callable[[str], int]:
    """The id of the incident whose suspected root (or first service) is `service`, by fault."""
    engine = create_engine(f"sqlite:///{incident_db}")
    incidents = IncidentManager(engine, None).list(limit=100)
    engine.dispose()

    def find(fault: str) -> int:
        f = next(f for f in FAULTS if f.id == fault)
        for inc in sorted(incidents, key=lambda i: i.opened_at):
            first = min(x.started_at for x in inc.findings)
            if abs(first - f.start) <= timedelta(minutes=5) and f.service in inc.services:
                return inc.id
        raise AssertionError(f"no incident for fault {fault}: {[i.to_json() for i in incidents]}")

    return find
