"""Each fact once in a notification: a finding's or root cause's summary that already
opens with its subject is not given the subject again (as the terminal report does)."""

from __future__ import annotations

import dataclasses

from notify_fakes import T0, make_incident, make_report

from investigate.model import Report
from notify.messages import incident_opened, report_ready


def _report(summary: str) -> Report:
    return make_report(summary=summary)


def _section(n, name: str) -> str:
    return next(s.value for s in n.sections if s.name == name)


def test_the_root_cause_names_its_subject_once() -> None:
    incident = make_incident()
    # The deterministic root cause's own wording (investigate.analysis.root).
    said = "postgres on db-01 was killed by the kernel's OOM killer at 10:00"
    assert _section(report_ready(incident, _report(said), T0), "Root cause") == said
    prefixed = "postgres on db-01: OOM kill (template #2)"
    assert _section(report_ready(incident, _report(prefixed), T0), "Root cause") == prefixed
    bare = "killed by the OOM killer"
    assert _section(report_ready(incident, _report(bare), T0), "Root cause") == (
        "postgres on db-01: killed by the OOM killer"
    )


def test_an_opened_incidents_evidence_names_each_subject_once() -> None:
    # The primitive detector's summary opens with its subject (detectors/primitive.py).
    incident = make_incident(summary="postgres on db-01: OOM kill (template #2)")
    evidence = _section(incident_opened(incident, T0), "Evidence")
    assert evidence == "primitive · postgres on db-01: OOM kill (template #2)"
    plain = dataclasses.replace(incident.findings[0], summary="Out of memory: Killed process 42")
    other = dataclasses.replace(incident, findings=(plain,))
    assert _section(incident_opened(other, T0), "Evidence") == (
        "primitive · postgres on db-01: Out of memory: Killed process 42"
    )
