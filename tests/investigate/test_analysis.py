"""The deterministic analysis of real incidents: root, confidence, impact, evidence, actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from detector.incidents.manager import IncidentManager
from detector.incidents.root import rank_roots
from detector.incidents.topology import InventoryTopology
from investigate.analysis import analyse
from investigate.analysis.hypotheses import unsupported
from investigate.model import Report
from investigate.tools import EvidenceTools
from logvigil.app.runtime import read_inventory
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.evaluation.demo import HOMELAB_INVENTORY


@pytest.fixture(scope="module")
def analysed(engine: Engine, find_incident: Callable[[str], int]) -> Callable[[str], Report]:
    topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
    manager = IncidentManager(engine, topology)

    def run(fault: str) -> Report:
        incident = manager.get(find_incident(fault))
        assert incident is not None
        return analyse(incident, EvidenceTools(engine, topology, incident)).report

    return run


def test_an_oom_cascade_has_postgres_as_root_with_high_confidence(analysed) -> None:
    a = analysed("oom")
    assert a.no_root_cause is False and a.root_cause is not None
    assert (a.root_cause.service, a.root_cause.host) == ("postgres", "db-01")
    assert a.root_cause.confidence >= 0.75
    assert "OOM" in a.root_cause.summary
    # The kernel only reported the kill: it is folded into its victim, not a rival.
    assert "kernel" not in {h.service for h in a.hypotheses}
    top = a.hypotheses[0]
    assert top.service == "postgres" and top.score > a.hypotheses[1].score
    assert any("primitive" in r for r in top.reasons)
    assert any("upstream of" in r for r in top.reasons)


def test_the_oom_impact_separates_affected_from_at_risk(analysed) -> None:
    a = analysed("oom")
    status = {i.service: i.status for i in a.impact}
    assert status["nextcloud"] == "affected" and status["nginx"] == "affected"
    assert status["backup"] == "at_risk"  # in the blast radius, still quiet
    nextcloud = next(i for i in a.impact if i.service == "nextcloud")
    assert nextcloud.evidence and nextcloud.depth == 1


def test_the_critical_failure_is_the_oom_kill(analysed) -> None:
    a = analysed("oom")
    cf = a.critical_failure
    assert cf is not None and cf.host == "db-01"
    assert "OOM kill" in cf.summary
    assert cf.at == min(e.at for e in a.timeline)


def test_evidence_carries_template_ids_counts_and_samples(analysed) -> None:
    a = analysed("oom")
    ids = {e.id for e in a.evidence}
    assert set(a.root_cause.evidence) <= ids
    with_samples = [e for e in a.evidence if e.samples]
    assert with_samples and all(e.template_id is not None for e in with_samples)
    nginx = next(e for e in a.evidence if e.service == "nginx")
    assert nginx.count_before == 0 and nginx.count_during and nginx.count_during > 0
    assert any("Killed process" in s for e in a.evidence for s in e.samples)


def test_oom_actions_point_at_memory_and_the_unit(analysed) -> None:
    actions = "\n".join(analysed("oom").suggested_actions)
    assert "systemctl status postgresql@15-main.service" in actions
    assert "journalctl -u postgresql@15-main.service --since" in actions
    assert "MemoryMax" in actions


def test_a_full_disk_has_backup_as_root_and_suggests_df(analysed) -> None:
    a = analysed("disk")
    assert a.root_cause is not None and a.root_cause.service == "backup"
    assert a.root_cause.host == "nas-01" and a.root_cause.confidence >= 0.75
    assert "disk is full" in a.root_cause.summary
    assert any("`df -h`" in s for s in a.suggested_actions)
    assert a.critical_failure is not None and a.critical_failure.template_id is not None


def test_a_spike_in_one_service_alone_names_it_with_modest_confidence(analysed) -> None:
    a = analysed("spike")
    assert a.no_root_cause is False and a.root_cause is not None
    assert a.root_cause.service == "postgres"
    assert a.root_cause.confidence <= 0.5
    assert "the logs do not say why" in a.root_cause.summary
    assert a.timeline and a.evidence


def test_a_spike_beside_other_anomalies_names_no_root() -> None:
    t = datetime(2026, 3, 3, 10, tzinfo=UTC)
    findings = (
        Finding("error_spike", t, t, "gitea", "web-01", Severity.ERROR, "gitea: spike"),
        Finding("error_spike", t, t, "nextcloud", "web-01", Severity.ERROR, "nextcloud: spike"),
    )
    topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
    ranking = rank_roots(findings, topology)
    no_root, why = unsupported(ranking.candidates[0], list(ranking.candidates), list(findings))
    assert no_root and ("rate spike" in why or "equally supported" in why)


def test_conflicting_equal_hypotheses_give_no_root_cause() -> None:
    t = datetime(2026, 3, 3, 10, tzinfo=UTC)
    findings = tuple(
        Finding("new_template", t, t, s, "web-01", Severity.ERROR, f"{s}: new error", 40 + i)
        for i, s in enumerate(("gitea", "nextcloud"))
    )
    topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
    ranking = rank_roots(findings, topology)
    no_root, why = unsupported(ranking.candidates[0], list(ranking.candidates), list(findings))
    assert no_root and "equally supported" in why
