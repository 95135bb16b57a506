"""Investigate an incident, store the report with it, load it back, compare two reports.

`investigate(...)` is what the backtest, the daemon and the `investigate` CLI call:

1. the incident is claimed (`open -> investigating`) when it is open; an
   incident in another status is investigated all the same (a resolved one
   can still get its report) and its status is recorded in the report;
2. the deterministic analysis runs (`analysis.analyse`) and gives the
   deterministic report;
3. with a `crew_runner`, the crew may replace it; if the runner raises or
   answers something that is not a valid report, the deterministic report is
   stored with `degraded` saying why;
4. the report, rendered to Markdown, is stored with the incident
   (`detector.incidents.repository.store_report`) and the incident moves
   `investigating -> reported`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from detector.incidents import repository as repo
from detector.incidents.manager import IncidentManager, IncidentNotFound
from detector.incidents.model import Incident, IncidentConfig, IncidentStatus, RootRef
from investigate.analysis import Analysis, analyse
from investigate.model import Report, confidence_label
from investigate.report_md import render_markdown
from investigate.tools import EvidenceTools
from investigate.tools.context import DeclaredTopology
from logvigil.core.timeutil import wall_clock

#: The crew's answer: from the incident, the analysis, the tools over the incident (for the
#: model's calls) and the deterministic report, a report (see `investigate.crew.crew_runner`).
CrewRunner = Callable[[Incident, Analysis, EvidenceTools, Report], Report]


def investigate(
    engine: Engine,
    topology: DeclaredTopology,
    incident_id: int,
    *,
    incidents: IncidentConfig | None = None,
    crew_runner: CrewRunner | None = None,
    now: datetime | None = None,
) -> Report:
    """Investigate incident `incident_id`, store the report with it and return it.

    Raises IncidentNotFound for an unknown id, and sqlalchemy errors from the
    store. Never raises for a failing model: the deterministic report stands in.
    """
    now = now if now is not None else wall_clock()
    manager = IncidentManager(engine, topology, incidents)
    incident = manager.get(incident_id)
    if incident is None:
        raise IncidentNotFound(incident_id)
    status = incident.status
    claimed = status is IncidentStatus.OPEN and manager.claim(
        incident_id, IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, now
    )
    try:
        started = time.perf_counter()
        tools = EvidenceTools(engine, topology, incident)
        analysis = analyse(
            incident, tools, host_wide=(incidents or IncidentConfig()).storm_host_kinds
        )
        base = analysis.to_report(created_at=now, duration_s=time.perf_counter() - started)
        base = dataclasses.replace(base, incident_status=status.value)
        report = base
        if crew_runner is not None:
            report = _run_crew(crew_runner, incident, analysis, tools, base)
            report = dataclasses.replace(
                report,
                created_at=now,
                incident_status=status.value,
                duration_s=round(time.perf_counter() - started, 3),
            )
        report.report_md = ""
        report.report_md = render_markdown(report)
        _store(engine, incident_id, report)
    except BaseException:
        if claimed:  # hand it back so another worker may try
            manager.claim(incident_id, IncidentStatus.INVESTIGATING, IncidentStatus.OPEN, now)
        raise
    if claimed or status is IncidentStatus.INVESTIGATING:
        manager.claim(incident_id, IncidentStatus.INVESTIGATING, IncidentStatus.REPORTED, now)
    return report


def _run_crew(
    runner: CrewRunner,
    incident: Incident,
    analysis: Analysis,
    tools: EvidenceTools,
    base: Report,
) -> Report:
    """The crew's report, or `base` with `degraded` saying why it was not used."""
    try:
        answer: object = runner(incident, analysis, tools, base)
    except Exception as e:  # the model's failure never loses the report
        return dataclasses.replace(base, degraded=f"the model failed: {type(e).__name__}: {e}")
    problem = check_report(answer, base)
    if problem is None and isinstance(answer, Report):
        return answer
    if isinstance(answer, Report):  # unusable, but what it spent is recorded
        model, tool_calls, tokens = answer.model, list(answer.tool_calls), dict(answer.tokens)
    else:
        model, tool_calls, tokens = base.model, [], {}
    return dataclasses.replace(
        base,
        degraded=f"the model's answer was not used: {problem}",
        model=model,
        tool_calls=tool_calls,
        tokens=tokens,
    )


def check_report(answer: object, base: Report) -> str | None:
    """Why `answer` is not a usable report of the same incident as `base`, or None."""
    if not isinstance(answer, Report):
        return f"expected a Report, got {type(answer).__name__}"
    if answer.incident_id != base.incident_id:
        return f"it is about incident {answer.incident_id}, not {base.incident_id}"
    if (answer.root_cause is None) != answer.no_root_cause:
        return "root_cause and no_root_cause disagree"
    rc = answer.root_cause
    if rc is not None:
        if not 0.0 <= rc.confidence <= 1.0:
            return f"confidence {rc.confidence} is not between 0 and 1"
        if not rc.summary.strip():
            return "the root cause has no summary"
        known = {h.service for h in base.hypotheses} | {h.host for h in base.hypotheses}
        if (rc.service or rc.host) not in known:
            return f"root {rc.service or rc.host!r} is none of the hypotheses"
    try:
        Report.from_json(answer.to_json())
    except Exception as e:  # a value that does not survive the round trip cannot be stored
        return f"it does not serialise: {type(e).__name__}: {e}"
    return None


def _store(engine: Engine, incident_id: int, report: Report) -> None:
    """Store `report` with its incident. Raises IncidentNotFound."""
    with engine.begin() as conn:
        if not repo.store_report(conn, incident_id, report.to_json()):
            raise IncidentNotFound(incident_id)


def load_report(engine: Engine, incident_id: int) -> Report | None:
    """The stored report of `incident_id`, None when it has none yet.

    Raises IncidentNotFound for an unknown id.
    """
    with engine.connect() as conn:
        stored = repo.load_report_json(conn, incident_id)
        if stored is None and repo.load(conn, incident_id) is None:
            raise IncidentNotFound(incident_id)
    return None if stored is None else Report.from_json(stored)


def _root(r: Report) -> str:
    rc = r.root_cause
    return "no root cause" if rc is None else str(RootRef(rc.service, rc.host))


def diff_reports(old: Report, new: Report) -> list[str]:
    """What changed from `old` to `new`, one line each; [] when nothing that matters did."""
    out: list[str] = []
    if _root(old) != _root(new):
        out.append(f"root cause: {_root(old)} -> {_root(new)}")
    oc = old.root_cause.confidence if old.root_cause else None
    nc = new.root_cause.confidence if new.root_cause else None
    if oc != nc and oc is not None and nc is not None:
        out.append(
            f"confidence: {confidence_label(oc)} ({oc:.2f}) -> {confidence_label(nc)} ({nc:.2f})"
        )
    if old.root_cause and new.root_cause and old.root_cause.summary != new.root_cause.summary:
        out.append(f"summary: {new.root_cause.summary}")
    ocf = old.critical_failure.summary if old.critical_failure else None
    ncf = new.critical_failure.summary if new.critical_failure else None
    if ocf != ncf:
        out.append(f"critical failure: {ocf or 'none'} -> {ncf or 'none'}")
    before = {i.service: i.status for i in old.impact}
    after = {i.service: i.status for i in new.impact}
    for s in sorted(after.keys() - before.keys()):
        out.append(f"impact added: {s} ({after[s]})")
    for s in sorted(before.keys() - after.keys()):
        out.append(f"impact removed: {s} ({before[s]})")
    for s in sorted(before.keys() & after.keys()):
        if before[s] != after[s]:
            out.append(f"impact changed: {s} {before[s]} -> {after[s]}")
    added = [a for a in new.suggested_actions if a not in old.suggested_actions]
    removed = [a for a in old.suggested_actions if a not in new.suggested_actions]
    if added or removed:
        out.append(f"suggested actions: {len(added)} added, {len(removed)} removed")
    if len(old.evidence) != len(new.evidence):
        out.append(f"evidence: {len(old.evidence)} -> {len(new.evidence)} items")
    if old.model != new.model:
        out.append(f"model: {old.model} -> {new.model}")
    if old.prompt_version != new.prompt_version:
        out.append(f"prompt version: {old.prompt_version} -> {new.prompt_version}")
    if old.degraded != new.degraded:
        out.append(f"degraded: {old.degraded or 'no'} -> {new.degraded or 'no'}")
    return out
