"""`logvigil eval --llm ... --llm-url ...`: a scenario replayed with every incident
investigated by a model at a local OpenAI-compatible server of our own, the model's
metrics in the report; and bad model options refused with a clear message."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_fake import FakeOpenAI
from typer.testing import CliRunner

from logvigil.cli import app

runner = CliRunner()
SUITE = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    s = FakeOpenAI()
    yield s
    s.close()


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("suite")
    shutil.copytree(SUITE / "oom_cascade", d / "oom_cascade")
    return d


def test_the_model_is_measured_over_the_suites_investigations(
    suite: Path, server: FakeOpenAI
) -> None:
    r = runner.invoke(
        app,
        ["eval", "--suite", str(suite), "--llm", "openai:tiny", "--llm-url", server.url, "--json"],
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    llm = report["llm"]
    assert llm["model"] == "openai/tiny"
    assert llm["investigations"] >= 1
    assert llm["usable"] == llm["investigations"] and llm["usable_share"] == 1.0
    # 4,096 tokens of context: the model only chooses (timeline, root) in each.
    assert llm["calls"] == 2 * llm["investigations"] == len(server.requests)
    assert llm["valid_calls"] == llm["calls"]
    assert llm["agreed"] == llm["root_answers"] == llm["investigations"]
    assert llm["tokens_per_investigation"] == 2 * 120  # the server's usage, 120 a call
    assert llm["seconds_per_call_p50"] is not None
    assert all(req["passed"] for req in llm["requirements"])
    assert report["overall"]["report_root_accuracy"] == 1.0
    (scenario,) = report["scenarios"]
    (first, *_) = scenario["investigations"]
    assert first["degraded"] is None
    assert [c["outcome"] for c in first["model_calls"]] == ["agreed", "agreed"]


def test_the_text_report_says_how_the_model_fared(suite: Path, server: FakeOpenAI) -> None:
    server.mode = "outside"  # ignores schemas, names a hypothesis that does not exist
    r = runner.invoke(
        app,
        ["eval", "--suite", str(suite), "--llm", "openai:tiny", "--llm-url", server.url],
    )
    assert r.exit_code == 1, r.output  # fewer than 90% usable answers
    assert "model openai/tiny:" in r.stdout
    assert "usable answers 0/" in r.stdout
    assert "✗ model answers usable in >= 90% of investigations" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--llm", "gpt4"], "expected none, openai:MODEL or ollama:MODEL"),
        (["--llm", "openai:x"], "base_url is required"),
        (["--llm", "openai:x", "--llm-url", "http://x/v1", "--llm-context", "100"], "context"),
        (["--llm", "openai:x", "--llm-url", "http://x/v1", "--llm-context", "1024"], "half"),
    ],
)
def test_bad_model_options_are_named_not_a_traceback(
    suite: Path, args: list[str], message: str
) -> None:
    r = runner.invoke(app, ["eval", "--suite", str(suite), *args])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
