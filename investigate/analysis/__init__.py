"""The deterministic analysis of an incident: hypotheses, impact, evidence, actions.

`analyse(incident, tools)` needs no model and is complete on its own: its
`Report` (model "none") is what is stored when no model is configured, or when
the model fails. The parts live beside this module, one reason to change each:
`hypotheses` (which candidate, how confident, whether any is supported),
`chronology` (timeline, critical failure), `evidence` (the E1.. items),
`impact`, `statements` (the summary, certain, possible), `actions`, and
`wording` (how they name primitives and times).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from detector.incidents.model import Incident, IncidentConfig
from detector.incidents.root import rank_roots, root_blast_radius
from detector.incidents.summary import incident_title
from investigate.analysis.actions import actions
from investigate.analysis.chronology import critical_failure, timeline_entries
from investigate.analysis.evidence import StatsRows, evidence_items
from investigate.analysis.hypotheses import (
    confidence,
    fold_messengers,
    reasons,
    spike_only,
    unsupported,
)
from investigate.analysis.impact import SUPERVISORS, impact_of
from investigate.analysis.statements import root_summary, statements
from investigate.model import Hypothesis, ImpactItem, Report, RootCause, ToolResult, ToolStatus
from investigate.tools import EvidenceTools, blast_radius, restarts, template_stats, timeline

#: Candidates whose template statistics are read (the best ones).
MAX_STATS_SUBJECTS = 6


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the deterministic analysis concluded: its report and the tool results (by tool
    name, `template_stats:<service>` per service) it was built from."""

    report: Report
    results: dict[str, ToolResult] = field(default_factory=dict)

    def to_report(
        self,
        *,
        created_at: datetime | None,
        duration_s: float = 0.0,
        degraded: str | None = None,
    ) -> Report:
        """The deterministic report stamped with its time; `report_md` is left for the renderer."""
        return dataclasses.replace(
            self.report, created_at=created_at, duration_s=round(duration_s, 3), degraded=degraded
        )


def report_title(incident: Incident, host_wide: Iterable[str] | None = None) -> str:
    """The incident's title, unless it names a supervisor (`systemd`, `init`, ...) as
    affected: a supervisor only reported that one of its units failed, so the title is
    built again without its findings (`host_wide`: the storm kinds the title was built
    with, `IncidentConfig.storm_host_kinds`)."""
    root = incident.root
    kept = [
        f
        for f in incident.findings
        if f.service not in SUPERVISORS or (root is not None and f.service == root.service)
    ]
    if not kept or len(kept) == len(incident.findings):
        return incident.title
    if host_wide is None:
        host_wide = IncidentConfig().storm_host_kinds
    return incident_title(kept, root, host_wide)


def analyse(
    incident: Incident, tools: EvidenceTools, *, host_wide: Iterable[str] | None = None
) -> Analysis:
    """The deterministic analysis of `incident` with `tools` (same incident, today's topology).
    `host_wide`: the storm kinds of the incidents' config (for the title, `report_title`).

    Never raises for missing data: a tool's ERROR or NO_DATA only removes what it
    would have added. Raises only on programming errors. The tools remember what they
    read for the time of the analysis (`ToolContext.remembering`), not after it.
    """
    with tools.remembering():
        return _analyse(incident, tools, host_wide)


def _analyse(incident: Incident, tools: EvidenceTools, host_wide: Iterable[str] | None) -> Analysis:
    results: dict[str, ToolResult] = {"timeline": timeline.run(tools)}
    findings = list(incident.findings)
    ranking = rank_roots(findings, tools.topology)
    candidates = fold_messengers(list(ranking.candidates), findings, incident)

    stats: StatsRows = {}
    for c in candidates[:MAX_STATS_SUBJECTS]:
        if c.service is None:
            continue
        r = template_stats.run(tools, c.service)
        results[f"template_stats:{c.service}"] = r
        if r.status is ToolStatus.OK:
            for row in r.data["templates"]:
                stats[(c.service, row["template_id"])] = row

    entries, first_at = timeline_entries(results["timeline"], findings)
    evidence, ev_by_subject, ev_by_template = evidence_items(incident, findings, stats, first_at)
    hypotheses = [
        Hypothesis(
            c.service,
            c.host,
            round(c.score, 1),
            tuple(reasons(c, candidates, findings)),
            tuple(ev_by_subject.get(c.subject, ())),
        )
        for c in candidates
    ]

    best = candidates[0] if candidates else None
    no_root, why_not = unsupported(best, candidates, findings)
    root_findings = [f for f in findings if best is not None and f.subject == best.subject]

    # Impact: the root's blast radius as today's graph has it.
    impact: list[ImpactItem] = []
    if best is not None and not no_root:
        blast: list[dict[str, Any]] = []
        if best.service is not None:
            r = blast_radius.run(tools, best.service)
            results["blast_radius"] = r
            if r.status is ToolStatus.OK:
                blast = r.data["blast_radius"]
        else:
            blast = [{"service": s, "depth": None} for s in root_blast_radius(best, tools.topology)]
        impact = impact_of(best, blast, findings, ev_by_subject)
    results["restarts"] = restarts.run(tools, best.service if best and best.service else None)

    root_cause = None
    if best is not None and not no_root:
        root_cause = RootCause(
            best.service,
            best.host,
            root_summary(best, root_findings, impact, stats),
            confidence(best, candidates, only_spikes=spike_only(root_findings)),
            tuple(ev_by_subject.get(best.subject, ())),
        )
    certain, possible = statements(
        findings, best, candidates, impact, ev_by_template, no_root, why_not
    )
    report = Report(
        incident_id=incident.id,
        title=report_title(incident, host_wide),
        root_cause=root_cause,
        no_root_cause=root_cause is None,
        critical_failure=critical_failure(entries, findings, best),
        impact=impact,
        timeline=entries,
        evidence=evidence,
        hypotheses=hypotheses,
        certain=certain,
        possible=possible,
        suggested_actions=actions(best, root_findings, impact, findings, evidence, tools, no_root),
    )
    return Analysis(report, results)
