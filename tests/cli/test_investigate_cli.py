"""`investigate --incident N` as a user runs it: replay, --rerun, --json, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from openai_fake import FakeOpenAI
from typer.testing import CliRunner

import logvigil.cli.investigate
from logvigil.cli.investigate import app
from logvigil.cli.llmopts import parse_llm
from logvigil.evaluation.demo import HOMELAB_INVENTORY

runner = CliRunner()

REQUIRED = {
    "incident_id",
    "root_cause",
    "critical_failure",
    "impact",
    "timeline",
    "evidence",
    "suggested_actions",
    "report_md",
}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cfg")
    inventory = d / "inventory.yaml"
    inventory.write_text(HOMELAB_INVENTORY.read_text())
    cfg = d / "logvigil.yaml"
    cfg.write_text(f"data_dir: {d / 'data'}\ngraph:\n  inventory: {inventory}\n")
    return cfg


def run(*args: str):
    return runner.invoke(app, list(args))


def test_json_has_the_required_keys(incident_db: Path, config: Path, find_incident) -> None:
    iid = find_incident("oom")
    r = run(
        "--incident",
        str(iid),
        "--db",
        f"sqlite:///{incident_db}",
        "--config",
        str(config),
        "--json",
    )
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj.keys() >= REQUIRED
    assert obj["incident_id"] == iid
    assert {"service", "host", "summary", "confidence"} <= obj["root_cause"].keys()
    assert obj["root_cause"]["service"] == "postgres"
    assert all("service" in i for i in obj["impact"])


def test_replay_is_byte_identical_and_calls_no_model(
    incident_db: Path, config: Path, find_incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{incident_db}"
    iid = str(find_incident("disk"))
    first = run("--incident", iid, "--db", db, "--config", str(config), "--json")
    assert first.exit_code == 0, first.output

    def boom(*a, **k):
        raise AssertionError("a replay must not investigate")

    monkeypatch.setattr(logvigil.cli.investigate, "investigate_incident", boom)
    # Even with a model configured, a replay never calls it.
    again = run(
        "--incident",
        iid,
        "--db",
        db,
        "--config",
        str(config),
        "--json",
        "--llm",
        "openai:gpt-4o-mini",
    )
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    md = run("--incident", iid, "--db", db, "--config", str(config))
    assert md.exit_code == 0 and "### Root cause" in md.stdout and "df -h" in md.stdout


def test_rerun_after_dropping_the_edges_changes_the_impact(
    incident_db: Path, config: Path, find_incident, tmp_path: Path
) -> None:
    db = f"sqlite:///{incident_db}"
    iid = str(find_incident("oom"))
    before = run("--incident", iid, "--db", db, "--config", str(config), "--json", "--rerun")
    assert before.exit_code == 0, before.output
    assert {i["service"] for i in json.loads(before.stdout)["impact"]} >= {"nextcloud", "nginx"}

    inv = yaml.safe_load(HOMELAB_INVENTORY.read_text())
    for spec in inv["services"].values():
        spec.pop("depends_on", None)
        spec.pop("calls", None)
    inv.pop("edges", None)
    flat = tmp_path / "flat.yaml"
    flat.write_text(yaml.safe_dump(inv))
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\ngraph:\n  inventory: {flat}\n")

    after = run("--incident", iid, "--db", db, "--config", str(cfg), "--rerun", "--json")
    assert after.exit_code == 0, after.output
    obj = json.loads(after.stdout)
    assert obj["impact"] == []
    assert "impact removed: nextcloud (affected)" in obj["changes"]
    assert "impact removed: nginx (affected)" in obj["changes"]
    text = run("--incident", iid, "--db", db, "--config", str(config), "--rerun")
    assert "Changes against the stored report:" in text.stdout
    assert "impact added: nextcloud (affected)" in text.stdout


def test_no_root_cause_is_explicit(incident_db: Path, config: Path, find_incident) -> None:
    r = run(
        "--incident",
        str(find_incident("twin")),
        "--db",
        f"sqlite:///{incident_db}",
        "--config",
        str(config),
        "--json",
    )
    obj = json.loads(r.stdout)
    assert obj["no_root_cause"] is True and obj["root_cause"] is None
    assert "No root cause found" in obj["report_md"]


def test_errors_are_clear_and_exit_2(incident_db: Path, config: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{incident_db}"
    r = run("--incident", "999", "--db", db, "--config", str(config))
    assert r.exit_code == 2 and "no incident 999" in r.output
    assert "Traceback" not in r.output
    r = run("--incident", "1", "--db", db, "--config", str(config), "--llm", "gpt4")
    assert r.exit_code == 2 and "openai:MODEL" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("nonsense_key: 1\n")
    r = run("--incident", "1", "--db", db, "--config", str(bad))
    assert r.exit_code == 2 and "nonsense_key" in r.output


def test_llm_option_format() -> None:
    assert parse_llm("none") == ("none", None)
    assert parse_llm("ollama:qwen2.5:7b") == ("ollama", "qwen2.5:7b")
    assert parse_llm("openai:gpt-4o-mini") == ("openai", "gpt-4o-mini")
    for bad in ("openai:", "claude:x", "", "ollama"):
        with pytest.raises(ValueError):
            parse_llm(bad)


def test_rerun_with_a_model_at_a_url_records_its_questions(
    incident_db: Path, config: Path, find_incident
) -> None:
    server = FakeOpenAI()
    try:
        iid = str(find_incident("oom"))
        db = f"sqlite:///{incident_db}"
        r = run(
            *("--incident", iid, "--db", db, "--config", str(config), "--rerun", "--json"),
            *("--llm", "openai:tiny", "--llm-url", server.url, "--llm-context", "8192"),
        )
    finally:
        server.close()
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["model"] == "openai/tiny" and report["degraded"] is None
    # 8,192 tokens of context: the model words the report too (four questions).
    assert [c["question"] for c in report["model_calls"]] == [
        "timeline",
        "root_cause",
        "impact",
        "reporter",
    ]
    assert len(server.requests) == 4
    assert "### Model calls" in report["report_md"]
