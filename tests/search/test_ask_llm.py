"""`ask --llm`: one schema-constrained call words the deterministic evidence, and every
sentence is checked against it (`logvigil.search.synthesis`), over the backtested homelab
(postgres OOM-killed on 2026-03-03 at 01:00 UTC, see `test_ask`).

The model is a local OpenAI-compatible server of our own (`openai_fake`, scripted
answers, every request recorded) and, end to end, the real llama.cpp server with the
270M Gemma model (`llama_server`, skipped without the `llm-server` group)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openai_fake import FakeOpenAI
from sqlalchemy import Engine, create_engine, select
from typer.testing import CliRunner

from investigate.chat import CHARS_PER_TOKEN, make_client
from investigate.llm import LLMConfig
from logvigil.cli import app
from logvigil.search.answer import Answer
from logvigil.search.ask import answer_question
from logvigil.search.synthesis import check_sentence, evidence_facts, synthesise
from logvigil.store.schema import AnswerRow

runner = CliRunner()
NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
QUESTION = "what happened on db-01 on March 3?"


@pytest.fixture(scope="module")
def engine(incident_db: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{incident_db}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def answer(engine: Engine) -> Answer:
    return answer_question(engine, QUESTION, now=NOW, zone=ZoneInfo("UTC"))


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    s = FakeOpenAI()
    yield s
    s.close()


def config(server_url: str, **kw: object) -> LLMConfig:
    return LLMConfig(provider="openai", model="m", base_url=server_url, **kw)


def run(answer: Answer, server: FakeOpenAI, sentences: list[dict[str, object]], **kw: object):
    server.scripted = json.dumps({"sentences": sentences})
    cfg = config(server.url, **kw)
    return synthesise(answer, make_client("openai", "m", server.url), cfg)


def oom(answer: Answer) -> str:
    return next(f"#{i.id}" for i in answer.incidents if "OOM" in i.title)


def test_the_evidence_is_the_deterministic_answer_under_checkable_ids(answer: Answer) -> None:
    facts = evidence_facts(answer)
    assert {f"#{i.id}" for i in answer.incidents} <= facts.keys()
    assert {f"T{t.id}" for t in answer.top_errors} <= facts.keys()
    assert "root cause: postgres on db-01" in facts[oom(answer)]


def test_sentences_citing_real_evidence_are_kept(answer: Answer, server: FakeOpenAI) -> None:
    top = answer.top_errors[0]
    s = run(
        answer,
        server,
        [
            {"text": "The kernel killed postgres on db-01 for memory.", "cites": [oom(answer)]},
            {
                "text": f"Its busiest error template logged {top.lines} lines.",
                "cites": [f"T{top.id}"],
            },
        ],
    )
    assert s.status == "checked" and s.removed == [] and len(s.sentences) == 2
    assert s.model == "openai/m" and s.prompt_tokens == 100
    req = server.requests[-1]
    schema = req["response_format"]["json_schema"]["schema"]
    ids = schema["properties"]["sentences"]["items"]["properties"]["cites"]["items"]["enum"]
    assert set(ids) == set(evidence_facts(answer))  # the model can only cite what exists
    prompt = req["messages"][-1]["content"]
    assert "<<<LOG" in prompt and prompt.rstrip().endswith("each with the ids it cites.")


def test_invented_ids_uncited_sentences_and_wrong_numbers_are_removed_and_marked(
    answer: Answer, server: FakeOpenAI
) -> None:
    good = {"text": "Postgres on db-01 was killed by the OOM killer.", "cites": [oom(answer)]}
    s = run(
        answer,
        server,
        [
            {"text": "Incident #999 took the web down.", "cites": [oom(answer)]},
            {"text": "Redis crashed on web-01 at night.", "cites": ["T99999"]},
            {"text": "Postgres logged 4711 errors that night.", "cites": [oom(answer)]},
            good,
        ],
    )
    assert s.status == "partly removed"
    assert [x.text for x in s.sentences] == [good["text"]]
    assert len(s.removed) == 3
    assert "names #999" in s.removed[0]
    assert "cites no evidence" in s.removed[1]
    assert "states 4711" in s.removed[2]


def test_an_answer_with_nothing_usable_is_marked_unusable(
    answer: Answer, server: FakeOpenAI
) -> None:
    s = run(answer, server, [{"text": "log", "cites": [oom(answer)]}])
    assert s.status == "unusable" and s.sentences == [] and "says nothing" in s.removed[0]


@pytest.mark.parametrize(
    ("mode", "status"),
    [("500", "failed: http"), ("garbage", "failed: protocol"), ("slow", "failed: timeout")],
)
def test_a_broken_server_leaves_the_deterministic_answer(
    answer: Answer, server: FakeOpenAI, mode: str, status: str
) -> None:
    server.mode = mode
    s = synthesise(
        answer, make_client("openai", "m", server.url), config(server.url, timeout_seconds=1)
    )
    assert s.status.startswith(status) and s.sentences == []


def test_an_answer_cut_at_its_cap_is_refused(answer: Answer, server: FakeOpenAI) -> None:
    server.scripted_finish = "length"
    s = run(answer, server, [{"text": "Postgres was killed on db-01.", "cites": [oom(answer)]}])
    assert s.status.startswith("failed: the answer was cut")


def test_the_prompt_is_cut_to_half_a_small_context(engine: Engine, server: FakeOpenAI) -> None:
    wide = answer_question(engine, "anything since March 1", now=NOW, zone=ZoneInfo("UTC"))
    facts = evidence_facts(wide)
    run(
        wide,
        server,
        [{"text": "Several things failed.", "cites": [next(iter(facts))]}],
        context_tokens=1024,
        max_answer_tokens=256,
    )
    prompt = server.requests[-1]["messages"][-1]["content"]
    sent = re.findall(r"^(#\d+|T\d+|N\d+|G\d+): ", prompt, re.M)
    assert 0 < len(sent) < len(facts)
    assert len(prompt) / CHARS_PER_TOKEN <= 512  # without a tokenizer, the client's estimate


def test_model_text_is_made_inert(answer: Answer) -> None:
    facts = evidence_facts(answer)
    raw = {"text": "@everyone see https://evil.example/x for the fix now", "cites": [oom(answer)]}
    sentence, why = check_sentence(raw, facts, QUESTION)
    assert why is None and sentence is not None
    assert "@everyone" not in sentence.text and "https://evil.example" not in sentence.text


def test_a_server_ignoring_the_schema_is_read_tolerantly(
    answer: Answer, server: FakeOpenAI
) -> None:
    server.scripted = 'Sure!\n```json\n{"sentences": [{"text": "Postgres died on db-01 first.", "cites": "#1"}]}\n```'
    s = synthesise(answer, make_client("openai", "m", server.url), config(server.url))
    assert s.status == "unusable" and "cites no evidence" in s.removed[0]  # cites not a list


# -- the command line: stored, replayed ----------------------------------------------------


def cli(db: Path, *args: str):
    return runner.invoke(app, ["ask", *args, "--db", f"sqlite:///{db}", "--timezone", "UTC"])


def test_ask_llm_shows_the_checked_answer_and_replays_it_exactly(
    incident_db: Path, server: FakeOpenAI
) -> None:
    engine = create_engine(f"sqlite:///{incident_db}")
    a = answer_question(engine, QUESTION, now=NOW, zone=ZoneInfo("UTC"))
    server.scripted = json.dumps(
        {"sentences": [{"text": "The OOM killer ended postgres on db-01.", "cites": [oom(a)]}]}
    )
    r = cli(incident_db, QUESTION, "--llm", "openai:m", "--llm-url", server.url)
    assert r.exit_code == 0, r.output
    assert "answer (openai/m, every sentence cites evidence)" in r.stdout
    assert f"The OOM killer ended postgres on db-01. [{oom(a)}]" in r.stdout
    with engine.connect() as conn:
        row = conn.execute(select(AnswerRow).order_by(AnswerRow.id.desc())).first()
    engine.dispose()
    assert row is not None and row.model == "openai/m" and row.question == QUESTION
    assert f"logvigil ask --replay {row.id}" in r.stdout
    again = cli(incident_db, "--replay", str(row.id))
    assert again.exit_code == 0 and again.stdout == r.stdout
    as_json = cli(incident_db, "--replay", str(row.id), "--json")
    obj = json.loads(as_json.stdout)
    assert obj["id"] == row.id and obj["synthesis"]["status"] == "checked"


def test_a_deterministic_answer_is_kept_too(incident_db: Path) -> None:
    r = cli(incident_db, QUESTION, "--json")
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)
    assert first["synthesis"] is None
    again = cli(incident_db, "--replay", str(first["id"]), "--json")
    assert json.loads(again.stdout) == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replay", "99999"], "no answer #99999"),
        (["x", "--replay", "1"], "not both"),
        (["x", "--llm", "gpt4"], "expected none, openai:MODEL or ollama:MODEL"),
        (["x", "--llm", "openai:m"], "base_url is required"),
        (["x", "--llm", "openai:m", "--llm-url", "u", "--llm-context", "5"], "--llm-context"),
    ],
)
def test_bad_options_exit_2_naming_them(incident_db: Path, args: list[str], message: str) -> None:
    r = cli(incident_db, *args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_a_model_that_does_not_answer_leaves_the_evidence(incident_db: Path) -> None:
    r = cli(incident_db, QUESTION, "--llm", "openai:m", "--llm-url", "http://127.0.0.1:9/v1")
    assert r.exit_code == 0, r.output
    assert "answer is not used (failed: connection" in r.stdout
    assert "root: postgres on db-01" in r.stdout


@pytest.mark.slow
def test_ask_through_the_real_llama_cpp_server(incident_db: Path, llama_server: str) -> None:
    """End to end with the 270M model: whatever it writes, only checked sentences citing
    evidence that exists are kept, and the answer is stored."""
    r = cli(
        incident_db, QUESTION, "--json", "--llm", "openai:gemma-3-270m", "--llm-url", llama_server
    )
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    s = obj["synthesis"]
    assert s["model"] == "openai/gemma-3-270m"
    assert s["status"] in ("checked", "partly removed", "unusable"), s
    assert s["prompt_tokens"] and s["prompt_tokens"] <= 4096
    engine = create_engine(f"sqlite:///{incident_db}")
    facts = evidence_facts(answer_question(engine, QUESTION, now=NOW, zone=ZoneInfo("UTC")))
    engine.dispose()
    for sentence in s["sentences"]:
        assert sentence["cites"] and set(sentence["cites"]) <= set(facts)
