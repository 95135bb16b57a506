"""Incidents: findings grouped over the dependency graph, with a lifecycle, a suspected
root, cooldowns and a bounded context bundle. The public names are re-exported here."""

from detector.incidents.bundle import build_bundle
from detector.incidents.grouping import Decision, GroupingPlan, Outcome, plan_grouping
from detector.incidents.manager import (
    ChangeKind,
    IncidentChange,
    IncidentConflict,
    IncidentManager,
    IncidentNotFound,
)
from detector.incidents.model import (
    BundleConfig,
    IllegalTransition,
    Incident,
    IncidentConfig,
    IncidentSeverity,
    IncidentStatus,
    RootRef,
)
from detector.incidents.redact import clean_line, redact
from detector.incidents.root import RootCandidate, RootRanking, rank_roots
from detector.incidents.topology import GraphTopology, InventoryTopology, Topology

__all__ = [
    "BundleConfig",
    "ChangeKind",
    "Decision",
    "GraphTopology",
    "GroupingPlan",
    "IllegalTransition",
    "Incident",
    "IncidentChange",
    "IncidentConfig",
    "IncidentConflict",
    "IncidentManager",
    "IncidentNotFound",
    "IncidentSeverity",
    "IncidentStatus",
    "InventoryTopology",
    "Outcome",
    "RootCandidate",
    "RootRanking",
    "RootRef",
    "Topology",
    "build_bundle",
    "clean_line",
    "plan_grouping",
    "rank_roots",
    "redact",
]
