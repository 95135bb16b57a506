"""The incident model: lifecycle transitions, the backtest JSON shape, the config."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from detector.incidents.model import (
    IllegalTransition,
    Incident,
    IncidentConfig,
    IncidentStatus,
    RootRef,
)
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_the_lifecycle_runs_open_investigating_reported_resolved() -> None:
    status = IncidentStatus.OPEN
    for wanted in ("investigating", "reported", "resolved"):
        status = status.check_transition(IncidentStatus(wanted))
    assert status is IncidentStatus.RESOLVED
    assert not status.active


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("resolved", "open"),
        ("resolved", "investigating"),
        ("reported", "open"),
        ("reported", "investigating"),
        ("open", "reported"),
        ("open", "open"),
    ],
)
def test_an_illegal_transition_is_refused_with_a_message_naming_both_states(
    current: str, wanted: str
) -> None:
    with pytest.raises(IllegalTransition) as err:
        IncidentStatus(current).check_transition(IncidentStatus(wanted))
    assert f"from {current} to {wanted}" in str(err.value)


def test_an_abandoned_investigation_can_hand_the_incident_back() -> None:
    assert IncidentStatus.INVESTIGATING.can_become(IncidentStatus.OPEN)


def test_to_json_has_the_backtest_shape() -> None:
    f = Finding(
        detector="primitives",
        at=T0,
        started_at=T0,
        service="postgres",
        host="db-01",
        severity=Severity.CRITICAL,
        summary="postgres killed by the OOM killer",
        kind="oom_kill",
    )
    incident = Incident(
        id=7,
        status=IncidentStatus.RESOLVED,
        severity=Severity.CRITICAL,
        title="postgres OOM-killed on db-01",
        opened_at=T0,
        updated_at=T0,
        last_finding_at=T0,
        resolved_at=datetime(2026, 3, 4, 10, 30, tzinfo=UTC),
        services=("postgres",),
        hosts=("db-01",),
        findings=(f,),
        root=RootRef("postgres", "db-01"),
        blast_radius=("gitea", "nextcloud", "nginx"),
    )
    assert incident.to_json() == {
        "id": 7,
        "opened_at": "2026-03-04T10:00:00Z",
        "resolved_at": "2026-03-04T10:30:00Z",
        "severity": "critical",
        "services": ["postgres"],
        "hosts": ["db-01"],
        "triggers": [
            {
                "detector": "primitives",
                "service": "postgres",
                "host": "db-01",
                "at": "2026-03-04T10:00:00Z",
                "summary": "postgres killed by the OOM killer",
            }
        ],
        "suspected_root": {"service": "postgres", "host": "db-01"},
        "blast_radius": ["gitea", "nextcloud", "nginx"],
    }


def test_the_config_has_the_documented_defaults_and_refuses_unknown_keys() -> None:
    cfg = IncidentConfig()
    assert (cfg.grouping_window_minutes, cfg.graph_depth, cfg.cooldown_minutes) == (30, 3, 60)
    assert cfg.resolve_after_quiet_minutes == 30
    assert cfg.bundle.max_bytes == 16 * 1024
    with pytest.raises(ValidationError, match="grouping_windw"):
        IncidentConfig.model_validate({"grouping_windw": 5})
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        IncidentConfig.model_validate({"graph_depth": 0})
