"""`logvigil graph ...` through typer's CliRunner: exit codes, JSON, pictures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logvigil.cli.graph import app

GOLDEN = Path(__file__).resolve().parents[1] / "graph" / "golden"
EXAMPLE_INVENTORY = Path(__file__).resolve().parents[2] / "inventory.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def test_check_exits_zero_on_the_example_inventory(runner: CliRunner) -> None:
    result = run(runner, "check", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 0, result.output
    assert "OK (4 hosts, 10 services" in result.stdout


def test_check_exits_two_and_prints_every_error_on_stderr(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)
    result = run(runner, "check", "--inventory", "bad_unknown_key.yaml")
    assert result.exit_code == 2
    expected = (GOLDEN / "bad_unknown_key.txt").read_text()
    assert expected in result.stderr
    assert "invalid inventory (4 errors)" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_check_exits_zero_with_cycle_warnings(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)
    result = run(runner, "check", "--inventory", "warn_cycle.yaml")
    assert result.exit_code == 0
    assert "warning: dependency cycle: api -> auth -> api" in result.stderr


def test_check_reports_a_missing_file_without_a_traceback(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = run(runner, "check", "--inventory", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "file not found" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_inventory_path_comes_from_the_environment(runner: CliRunner) -> None:
    result = run(runner, "check", env={"LOGVIGIL_INVENTORY": str(EXAMPLE_INVENTORY)})
    assert result.exit_code == 0, result.output


def test_the_default_inventory_is_the_one_in_the_working_directory(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLE_INVENTORY.parent)
    monkeypatch.delenv("LOGVIGIL_INVENTORY", raising=False)
    assert run(runner, "check").exit_code == 0


def test_impact_json_prints_the_blast_radius(runner: CliRunner) -> None:
    result = run(runner, "impact", "nextcloud", "--json", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "service": "nextcloud",
        "blast_radius": [{"service": "nginx", "depth": 1, "path": ["nextcloud", "nginx"]}],
    }


def test_impact_text_reads_as_arrows(runner: CliRunner) -> None:
    result = run(runner, "impact", "nextcloud", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 0
    assert "nginx (depth 1): nextcloud <- nginx" in result.stdout


def test_upstream_json_lists_what_a_service_needs(runner: CliRunner) -> None:
    result = run(runner, "upstream", "gitea", "--json", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "service": "gitea",
        "upstream": [{"service": "postgres", "depth": 1, "path": ["gitea", "postgres"]}],
    }


def test_impact_of_an_unknown_service_exits_two_with_a_suggestion(runner: CliRunner) -> None:
    result = run(runner, "impact", "ngnix", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 2
    assert "unknown service 'ngnix' (did you mean \"nginx\"?)" in result.stderr


def test_impact_on_an_invalid_inventory_exits_two(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)
    result = run(runner, "impact", "nginx", "--json", "--inventory", "bad_syntax.yaml")
    assert result.exit_code == 2
    assert "YAML syntax error" in result.stderr
    assert result.stdout == ""


def test_show_prints_a_tree(runner: CliRunner) -> None:
    result = run(runner, "show", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 0
    assert "    ├── calls nextcloud\n    │   ├── depends_on postgres" in result.stdout


def test_show_mermaid_and_dot_draw_every_edge(runner: CliRunner) -> None:
    mermaid = run(runner, "show", "--mermaid", "--inventory", str(EXAMPLE_INVENTORY))
    assert mermaid.exit_code == 0
    assert mermaid.stdout.startswith("flowchart LR\n")
    assert mermaid.stdout.count("-->|") == 10
    dot = run(runner, "show", "--dot", "--inventory", str(EXAMPLE_INVENTORY))
    assert dot.exit_code == 0
    assert '"nginx" -> "nextcloud" [label="CALLS"];' in dot.stdout
    assert '"backup" -> "host:nas-01" [label="STORES_ON"];' in dot.stdout


def test_show_refuses_two_formats_at_once(runner: CliRunner) -> None:
    result = run(runner, "show", "--mermaid", "--dot", "--inventory", str(EXAMPLE_INVENTORY))
    assert result.exit_code == 2
