"""The stored report: round trip, Markdown safety, crew fallbacks, lifecycle, diff."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from detector.incidents import repository as repo
from detector.incidents.manager import IncidentManager
from detector.incidents.model import IncidentStatus
from detector.incidents.topology import InventoryTopology
from investigate.model import EvidenceItem, Report, TimelineEntry, ToolCall
from investigate.report_md import code_block, code_span, render_markdown
from investigate.service import diff_reports, investigate, load_report
from logvigil.app.runtime import read_inventory
from logvigil.core.text import ZWSP
from logvigil.evaluation.demo import HOMELAB_INVENTORY
from logvigil.store.schema import IncidentRow

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def topology() -> InventoryTopology:
    return InventoryTopology(read_inventory(HOMELAB_INVENTORY))


def load_report_json(engine: Engine, incident_id: int) -> dict | None:
    with engine.connect() as conn:
        return repo.load_report_json(conn, incident_id)


def test_the_stored_report_round_trips_exactly(engine: Engine, topology, find_incident) -> None:
    report = investigate(engine, topology, find_incident("oom"), now=NOW)
    stored = load_report_json(engine, report.incident_id)
    assert stored == report.to_json()
    assert json.dumps(Report.from_json(stored).to_json()) == json.dumps(stored)
    loaded = load_report(engine, report.incident_id)
    assert loaded is not None and loaded.report_md == report.report_md
    assert report.model == "none" and report.degraded is None
    assert report.incident_status == "resolved"  # a resolved incident still gets its report
    for section in (
        "### Root cause",
        "### Critical failure",
        "### Impact",
        "### Timeline",
        "### Evidence",
        "### Certain",
        "### Possible",
        "### Suggested actions",
    ):
        assert section in report.report_md
    assert f"investigate --incident {report.incident_id}" in report.report_md


def test_an_open_incident_goes_investigating_then_reported(
    engine: Engine, topology, find_incident
) -> None:
    iid = find_incident("disk")
    with engine.begin() as conn:
        conn.execute(
            update(IncidentRow.__table__)
            .where(IncidentRow.__table__.c.id == iid)
            .values(status="open", resolved_at=None)
        )
    seen: list[IncidentStatus] = []

    def runner(incident, analysis, tools, base):
        seen.append(IncidentManager(engine, topology).get(iid).status)
        return base

    investigate(engine, topology, iid, crew_runner=runner, now=NOW)
    assert seen == [IncidentStatus.INVESTIGATING]
    assert IncidentManager(engine, topology).get(iid).status is IncidentStatus.REPORTED


@pytest.mark.parametrize(
    ("runner", "reason"),
    [
        (
            lambda *a: (_ for _ in ()).throw(TimeoutError("model timed out after 120 s")),
            "TimeoutError: model timed out",
        ),
        (lambda *a: "the root cause is obviously DNS", "expected a Report"),
        (
            lambda i, a, t, base: dataclasses.replace(
                base, root_cause=dataclasses.replace(base.root_cause, service="mars"), model="x:y"
            ),
            "none of the hypotheses",
        ),
        (lambda i, a, t, base: dataclasses.replace(base, root_cause=None), "disagree"),
    ],
)
def test_a_failing_or_nonsensical_model_leaves_the_deterministic_report(
    engine: Engine, topology, find_incident, runner: Callable, reason: str
) -> None:
    report = investigate(engine, topology, find_incident("oom"), crew_runner=runner, now=NOW)
    assert report.degraded and reason in report.degraded
    assert report.root_cause is not None and report.root_cause.service == "postgres"
    assert "deterministic report" in report.report_md
    assert load_report_json(engine, report.incident_id)["degraded"] == report.degraded


def test_a_valid_crew_report_is_stored_with_its_calls(engine: Engine, topology, find_incident):
    def runner(incident, analysis, tools, base):
        r = tools.run("upstream", {"service": "nginx"})
        call = ToolCall("upstream", {"service": "nginx"}, r.status.value, "{...}", "root_cause")
        return dataclasses.replace(
            base, model="ollama:test", tool_calls=[call], tokens={"prompt": 900, "completion": 80}
        )

    report = investigate(engine, topology, find_incident("oom"), crew_runner=runner, now=NOW)
    assert report.degraded is None and report.model == "ollama:test"
    stored = load_report(engine, report.incident_id)
    assert stored.tool_calls[0].tool == "upstream" and stored.tokens["prompt"] == 900
    assert "`ollama:test`" in stored.report_md and "prompt 900" in stored.report_md


def test_markdown_neutralises_mentions_and_fences_in_log_lines() -> None:
    hostile = "@everyone ```\n# pwned <@123456> **bold** [link](http://x) `tick`"
    t = datetime(2026, 3, 3, 10, tzinfo=UTC)
    report = Report(
        incident_id=7,
        title="nginx @here error",
        root_cause=None,
        no_root_cause=True,
        critical_failure=TimelineEntry(t, "nginx", "web-01", hostile, 3),
        impact=[],
        timeline=[TimelineEntry(t, "nginx", "web-01", hostile, 3)],
        evidence=[EvidenceItem("E1", "nginx", "web-01", 3, hostile, 0, 5, (hostile,), hostile)],
        hypotheses=[],
        certain=["no root cause found: " + hostile],
        possible=[hostile],
        suggested_actions=[hostile],
    )
    md = render_markdown(report)
    assert "@everyone" not in md and "@here" not in md and "<@123456>" not in md
    assert f"@{ZWSP}everyone" in md and f"<@{ZWSP}123456>" in md
    # No line of log text can open a heading or close the code block early.
    assert not any(line.startswith("# pwned") for line in md.splitlines())
    block = code_block([hostile])
    assert block.startswith("````") and block.rstrip().endswith("````")
    span = code_span("a ``` b")
    assert span.startswith("````") and "``` b" in span
    assert "**No root cause found.**" in md


def test_the_diff_names_what_changed(engine: Engine, topology, find_incident) -> None:
    old = investigate(engine, topology, find_incident("oom"), now=NOW)
    new = dataclasses.replace(
        old,
        impact=[i for i in old.impact if i.service != "nginx"],
        root_cause=dataclasses.replace(old.root_cause, confidence=0.4),
    )
    changes = diff_reports(old, new)
    assert "impact removed: nginx (affected)" in changes
    assert any(c.startswith("confidence: high (0.95) -> low (0.40)") for c in changes)
    assert diff_reports(old, old) == []
