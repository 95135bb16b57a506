"""Incidents: findings grouped over the dependency graph, with a lifecycle, a suspected
root, cooldowns and a bounded context bundle. The public names are re-exported here.

The re-exports are lazy (PEP 562): `detector.config` imports `detector.incidents.model`,
and an eager package would load the graph store, redis and the ORM with every command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it
_EXPORTS = {
    "BundleConfig": "detector.incidents.model",
    "ChangeKind": "detector.incidents.manager",
    "Decision": "detector.incidents.grouping",
    "GraphTopology": "detector.incidents.topology",
    "GroupingPlan": "detector.incidents.grouping",
    "IllegalTransition": "detector.incidents.model",
    "Incident": "detector.incidents.model",
    "IncidentChange": "detector.incidents.manager",
    "IncidentConfig": "detector.incidents.model",
    "IncidentConflict": "detector.incidents.manager",
    "IncidentManager": "detector.incidents.manager",
    "IncidentNotFound": "detector.incidents.manager",
    "IncidentSeverity": "detector.incidents.model",
    "IncidentStatus": "detector.incidents.model",
    "InventoryTopology": "detector.incidents.topology",
    "Outcome": "detector.incidents.grouping",
    "RootCandidate": "detector.incidents.root",
    "RootRanking": "detector.incidents.root",
    "RootRef": "detector.incidents.model",
    "Topology": "detector.incidents.topology",
    "build_bundle": "detector.incidents.bundle",
    "clean_line": "detector.incidents.redact",
    "plan_grouping": "detector.incidents.grouping",
    "rank_roots": "detector.incidents.root",
    "redact": "detector.incidents.redact",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
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
