"""The evidence tools over a real backtested OOM cascade: answers, bounds, and errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, create_engine

from detector.incidents.manager import IncidentManager
from detector.incidents.topology import InventoryTopology
from investigate.model import ToolStatus
from investigate.tools import (
    TOOLS,
    EvidenceTools,
    blast_radius,
    co_hosted,
    lines_around,
    path_between,
    restarts,
    template_stats,
    timeline,
    upstream,
)
from investigate.tools.spec import MAX_OUTPUT_CHARS, result_text
from logvigil.app.runtime import read_inventory
from logvigil.evaluation.demo import HOMELAB_INVENTORY


@pytest.fixture(scope="module")
def tools(engine: Engine, find_incident: Callable[[str], int]) -> EvidenceTools:
    topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
    incident = IncidentManager(engine, topology).get(find_incident("oom"))
    assert incident is not None
    return EvidenceTools(engine, topology, incident)


def test_the_timeline_starts_with_the_oom_kill_and_is_in_order(tools: EvidenceTools) -> None:
    r = timeline.run(tools)
    assert r.status is ToolStatus.OK
    entries = r.data["entries"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert entries[0]["host"] == "db-01" and "oom" in json.dumps(entries[0]).lower()
    services = {e["service"] for e in entries}
    assert {"postgres", "nextcloud", "nginx"} <= services


def test_template_stats_show_new_templates_during_the_incident(tools: EvidenceTools) -> None:
    r = template_stats.run(tools, "nextcloud")
    assert r.status is ToolStatus.OK
    new = [t for t in r.data["templates"] if t["new"]]
    assert new and new[0]["before"] == 0 and new[0]["during"] > 0
    assert "connect" in new[0]["template"].lower()


def test_lines_around_the_onset_are_bounded_and_redacted(tools: EvidenceTools) -> None:
    onset = tools.window.onset
    r = lines_around.run(tools, onset.isoformat(), limit=10)
    assert r.status is ToolStatus.OK
    lines = r.data["lines"]
    assert 0 < len(lines) <= 10
    assert any("Killed process" in x["line"] for x in lines)
    assert all(len(x["line"]) <= 240 for x in lines)
    assert lines_around.run(tools, onset, service="postgres", minutes=1).status is ToolStatus.OK


def test_graph_tools_answer_from_the_inventory(tools: EvidenceTools) -> None:
    up = upstream.run(tools, "nginx").data["upstream"]
    assert {"postgres", "nextcloud", "gitea"} <= {x["service"] for x in up}
    blast = {x["service"]: x for x in blast_radius.run(tools, "postgres").data["blast_radius"]}
    assert blast["nextcloud"]["depth"] == 1 and blast["nextcloud"]["anomalous"] is True
    assert blast["backup"]["anomalous"] is False
    path = path_between.run(tools, "postgres", "nginx")
    assert path.status is ToolStatus.OK and path.data["path"][0] == "nginx"
    assert path.data["path"][-1] == "postgres"
    assert path_between.run(tools, "dns", "redis").status is ToolStatus.NO_DATA
    hosts = co_hosted.run(tools, "postgres").data["hosts"]
    assert hosts[0]["host"] == "db-01"
    assert "redis" in {s["service"] for s in hosts[0]["services"]}


def test_restarts_find_the_failed_unit(tools: EvidenceTools) -> None:
    r = restarts.run(tools)
    assert r.status is ToolStatus.OK
    assert any("oom-kill" in e["line"] for e in r.data["events"])
    assert restarts.run(tools, "postgres").status is ToolStatus.OK


@pytest.mark.parametrize(
    ("name", "args", "needle"),
    [
        ("template_stats", {"service": "postgress"}, 'did you mean "postgres"'),
        ("upstream", {"service": "nginxx"}, 'did you mean "nginx"'),
        ("blast_radius", {"service": "nope"}, "unknown service 'nope'"),
        ("path_between", {"a": "postgres", "b": "gitae"}, 'did you mean "gitea"'),
        ("co_hosted", {"service": "redis-srv"}, "unknown service"),
        ("restarts", {"service": "nextclod"}, 'did you mean "nextcloud"'),
        ("lines_around", {"at": "yesterday"}, "ISO 8601"),
        ("lines_around", {"at": "2020-01-01T00:00:00Z"}, "outside the incident's window"),
        ("lines_around", {"at": "2026-03-03T01:00:00Z", "limit": 1000}, "limit"),
        ("lines_around", {"at": "2026-03-03T01:00:00Z", "service": "x y"}, "unknown service"),
        ("template_stats", {}, "service: Field required"),
        ("template_stats", {"service": "postgres", "extra": 1}, "extra: Extra inputs"),
        ("upstream", {"service": ""}, "at least 1 character"),
        ("path_between", {"a": 3, "b": "nginx"}, "a: Input should be a valid string"),
        ("timeline", {"verbose": True}, "Extra inputs are not permitted"),
        ("no_such_tool", {}, "unknown tool"),
    ],
)
def test_every_error_is_a_result_with_its_detail(
    tools: EvidenceTools, name: str, args: dict, needle: str
) -> None:
    r = tools.run(name, args)
    assert r.status is ToolStatus.ERROR
    assert needle in (r.error or ""), r.error
    assert tools.calls[-1][0] == name


def test_a_graph_question_about_an_undeclared_service_says_so(tools: EvidenceTools) -> None:
    undeclared = next(s for s in tools.known_services() if s not in tools.declared)
    r = upstream.run(tools, undeclared)
    assert r.status is ToolStatus.ERROR and "not declared in the inventory" in (r.error or "")


def test_a_broken_store_is_an_error_not_an_exception(tools: EvidenceTools) -> None:
    broken = EvidenceTools(
        create_engine("sqlite:////nonexistent/dir/x.db"), tools.topology, tools.incident
    )
    for name in ("timeline", "template_stats", "restarts"):
        args = {"service": "postgres"} if name == "template_stats" else {}
        r = broken.run(name, args)
        assert r.status is ToolStatus.ERROR and "OperationalError" in (r.error or "")


def test_the_registry_is_typed_and_every_output_is_bounded(tools: EvidenceTools) -> None:
    for name, spec in TOOLS.items():
        assert spec.name == name and spec.description
        assert spec.schema()["type"] == "object"
        assert spec.args.model_config.get("extra") == "forbid"
    outputs = [
        tools.run("timeline"),
        tools.run("template_stats", {"service": "nginx"}),
        tools.run("lines_around", {"at": tools.window.onset.isoformat(), "limit": 100}),
        tools.run("blast_radius", {"service": "dns"}),
    ]
    for r in outputs:
        assert len(json.dumps(r.data)) <= MAX_OUTPUT_CHARS + 100
        assert len(result_text(r)) <= MAX_OUTPUT_CHARS + 500
        assert all(len(v) <= 40 for v in r.data.values() if isinstance(v, list))
