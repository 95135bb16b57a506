"""Focused mode over a real incident of the pipeline, with a scripted fake model.

The fake speaks `investigate.chat.ChatClient` (count, ask) and answers each of the
four questions from a script; every prompt it is sent is recorded. The incident is
the synthetic homelab's postgres OOM cascade with hostile lines (see `crew_support`).
Over the wire (a local OpenAI-compatible server, the real llama.cpp server) see
`test_llm_wire.py`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from crew_support import HOSTILE, Case, make_case

from investigate.chat import ChatAnswer, ChatError, Message
from investigate.focused import decide_root, focused_report, focused_runner
from investigate.llm import LLMConfig, focused_mode
from investigate.model import Hypothesis, Report
from investigate.questions import answer_cap, root_model, schema_of
from investigate.service import investigate, load_report

Answer = str | dict[str, Any] | ChatError | Callable[[Sequence[Message]], str]


class ScriptedModel:
    """A deterministic model: `script[question]` is its answer (JSON of a dict, raw text,
    a ChatError to raise, or a function of the messages). Counts tokens as chars / 3."""

    name = "fake/scripted"

    def __init__(self, script: dict[str, Answer], *, finish: str = "stop") -> None:
        self.script = script
        self.finish = finish
        self.asked: list[tuple[str, list[Message], dict[str, Any], int]] = []

    def count_tokens(self, messages: Sequence[Message], *, timeout: float = 10) -> tuple[int, bool]:
        assert 0 < timeout <= 10
        return sum(len(m["content"]) for m in messages) // 3 + 10, True

    def ask(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        timeout: float,
    ) -> ChatAnswer:
        question = _question_of(messages[-1]["content"])
        self.asked.append((question, list(messages), schema, max_tokens))
        answer = self.script.get(question, "")
        if isinstance(answer, ChatError):
            raise answer
        if callable(answer):
            answer = answer(messages)
        text = answer if isinstance(answer, str) else json.dumps(answer)
        prompt, _ = self.count_tokens(messages)
        return ChatAnswer(text, prompt, 30, 0.25, "json_schema", self.finish)


def _question_of(user: str) -> str:
    for name, marker in (
        ("timeline", "which entry is the first failure"),
        ("root_cause", "which ranked hypothesis"),
        ("impact", "what is affected"),
        ("reporter", "what does the evidence show"),
    ):
        if marker in user:
            return name
    raise AssertionError(f"not a focused question: {user[-300:]}")


GOOD: dict[str, Answer] = {
    "timeline": {"first_failure": "T1", "note": "postgres was killed first"},
    "root_cause": {"hypothesis": "H1", "confidence": "high", "why": "postgres was OOM-killed (E1)"},
    "impact": {"summary": "Its dependants show errors; the rest is at risk."},
    "reporter": {
        "certain": ["the kernel killed postgres (E1)"],
        "possible": ["a query used too much memory"],
        "suggested_actions": ["check `dmesg` for the kill"],
    },
}


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return make_case(tmp_path_factory.mktemp("focused"), hostile=True)


@pytest.fixture
def base(case: Case) -> Report:
    return case.analysis.to_report(created_at=None)


def config(**kw: Any) -> LLMConfig:
    """A focused-mode config in which the model answers all four questions."""
    kw = {"wording": "model"} | kw
    return LLMConfig(provider="openai", model="fake", base_url="http://127.0.0.1:9/v1", **kw)


def run(case: Case, base: Report, model: ScriptedModel, **kw: Any) -> Report:
    return focused_report(case.incident, case.analysis, base, config(**kw), model)


def test_a_model_that_agrees_is_used_and_every_question_is_recorded(
    case: Case, base: Report
) -> None:
    model = ScriptedModel(GOOD)
    report = run(case, base, model)

    assert report.degraded is None
    assert report.model == "fake/scripted"
    assert report.root_cause.service == base.root_cause.service == "postgres"
    assert report.root_cause.summary == "postgres was OOM-killed (E1)"
    assert report.root_cause.confidence == base.root_cause.confidence  # calibrated, not the model's
    asked = [q for q, *_ in model.asked]
    assert asked == ["timeline", "root_cause", "impact", "reporter"]
    assert [(c.question, c.valid) for c in report.model_calls] == [(q, True) for q in asked]
    outcomes = {c.question: c.outcome for c in report.model_calls}
    assert outcomes["root_cause"] == "agreed"
    assert report.certain[:2] == [
        "Its dependants show errors; the rest is at risk.",
        "the kernel killed postgres (E1)",
    ]
    assert report.possible[0] == "a query used too much memory"
    # The model's actions are prose (no command formatting); the analysis' commands follow.
    assert report.suggested_actions[0] == "check 'dmesg' for the kill"
    assert any("`" in a for a in report.suggested_actions[1:])
    assert report.tokens["model_calls"] == 4
    assert report.tokens["completion_tokens"] == 4 * 30
    assert report.tokens["prompt_tokens"] == sum(c.prompt_tokens for c in report.model_calls)


def test_each_choice_is_an_enum_of_real_ids(case: Case, base: Report) -> None:
    model = ScriptedModel(GOOD)
    run(case, base, model)
    schemas = {q: s for q, _, s, _ in model.asked}
    n = len(base.timeline[:12])
    assert schemas["timeline"]["properties"]["first_failure"]["enum"] == [
        f"T{i + 1}" for i in range(n)
    ]
    hyps = schemas["root_cause"]["properties"]["hypothesis"]["enum"]
    assert hyps == [f"H{i + 1}" for i in range(len(base.hypotheses[:6]))] + ["none"]
    for schema in schemas.values():
        assert schema["type"] == "object"
        assert set(schema["required"]) == set(schema["properties"])
    root_prompt = next(m for q, m, *_ in model.asked if q == "root_cause")[-1]["content"]
    assert "H1 postgres on db-01" in root_prompt


def test_the_prompts_carry_hostile_log_text_only_as_quoted_data(case: Case, base: Report) -> None:
    model = ScriptedModel(GOOD)
    run(case, base, model)
    # One user turn each, the brief first: Gemma's chat template has no system role.
    assert all([m["role"] for m in msgs] == ["user"] for _, msgs, *_ in model.asked)
    assert all(msgs[0]["content"].startswith("You help LogVigil") for _, msgs, *_ in model.asked)
    sent = "\n".join(m["content"] for _, msgs, *_ in model.asked for m in msgs)
    assert "<<<LOG" in sent and "LOG>>>" in sent
    assert "@everyone" not in sent
    assert "<|im_start|>" not in sent
    assert any(h.split()[0] in sent for h in HOSTILE)


def test_a_model_that_disagrees_with_strong_evidence_does_not_move_the_root(
    case: Case, base: Report
) -> None:
    assert base.root_cause.confidence >= 0.5 and len(base.hypotheses) >= 2
    other = base.hypotheses[1]
    model = ScriptedModel(
        GOOD | {"root_cause": {"hypothesis": "H2", "confidence": "high", "why": "it logged first"}}
    )
    report = run(case, base, model)
    assert report.root_cause.service == "postgres"
    assert report.degraded.startswith("disagreed: root_cause: it chose ")
    assert str(other.service) in report.degraded
    view = next(p for p in report.possible if p.startswith("the model (fake/scripted) named"))
    assert "it logged first" in view
    call = next(c for c in report.model_calls if c.question == "root_cause")
    assert call.valid and call.outcome.startswith("disagreed:")
    assert call.answer["hypothesis"] == "H2"


def hyp(name: str, score: float) -> Hypothesis:
    return Hypothesis(name, "h1", score, ("r",), ("E1",))


@pytest.mark.parametrize(
    ("confidence", "scores", "pick", "taken", "outcome"),
    [
        (0.4, (1.0, 0.95), "H2", 1, "accepted"),  # a near tie the analysis could not break
        (0.4, (1.0, 0.5), "H2", 0, "disagreed"),  # not close
        (0.8, (1.0, 0.95), "H2", 0, "disagreed"),  # close, but the analysis is confident
        (0.8, (1.0, 0.95), "H1", 0, "agreed"),
        (0.8, (1.0, 0.95), "none", 0, "disagreed"),  # "none" against a supported root
    ],
)
def test_who_wins_a_disagreement(
    base: Report,
    confidence: float,
    scores: tuple[float, float],
    pick: str,
    taken: int,
    outcome: str,
) -> None:
    hyps = [hyp("a", scores[0]), hyp("b", scores[1])]
    rooted = dataclasses.replace(
        base, root_cause=dataclasses.replace(base.root_cause, confidence=confidence)
    )
    chosen, said, view = decide_root(rooted, hyps, {"hypothesis": pick, "why": "w"}, "m")
    assert chosen == taken
    assert said.startswith(outcome)
    assert (view is None) == (outcome != "disagreed")


def test_a_near_tie_the_analysis_could_not_break_goes_to_the_model(case: Case) -> None:
    close = dataclasses.replace(case.analysis.report.hypotheses[1], score=88.0)
    unsure = dataclasses.replace(
        case.analysis.report,
        hypotheses=[case.analysis.report.hypotheses[0], close],
        root_cause=dataclasses.replace(case.analysis.report.root_cause, confidence=0.45),
    )
    analysis = dataclasses.replace(case.analysis, report=unsure)
    why = f"{close.service} failed first ({close.evidence[0]})"
    model = ScriptedModel(
        GOOD | {"root_cause": {"hypothesis": "H2", "confidence": "medium", "why": why}}
    )
    report = focused_report(case.incident, analysis, unsure, config(), model)
    assert report.root_cause.service == close.service
    assert report.root_cause.summary == why  # it cites the evidence of its root
    assert report.root_cause.confidence == 0.45  # min(the analysis', "medium" = 0.6)
    assert report.degraded is None
    call = next(c for c in report.model_calls if c.question == "root_cause")
    assert call.outcome.startswith("accepted: H2")


def test_without_a_supported_root_a_model_cannot_invent_one(base: Report) -> None:
    none = dataclasses.replace(base, root_cause=None, no_root_cause=True)
    chosen, said, _view = decide_root(none, [hyp("a", 1)], {"hypothesis": "H1", "why": ""}, "m")
    assert chosen is None and said.startswith("disagreed") and "none of the" in said
    assert decide_root(none, [hyp("a", 1)], {"hypothesis": "none", "why": ""}, "m")[1] == "agreed"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"hypothesis": "H9", "confidence": "medium", "why": "x"}, "hypothesis: Input should be"),
        ({"hypothesis": "postgres", "confidence": "medium", "why": "x"}, "hypothesis"),
        ({"hypothesis": "H1", "confidence": 1.5, "why": "x"}, "confidence"),  # what 270M said
        ({"hypothesis": "H1", "why": "x"}, "confidence: Field required"),
        ("I think it is postgres.", "no JSON object"),
        ('{"hypothesis": "H1", "confidence": ', "no JSON object"),
    ],
)
def test_an_answer_outside_its_schema_is_refused(
    case: Case, base: Report, answer: Answer, reason: str
) -> None:
    report = run(case, base, ScriptedModel(GOOD | {"root_cause": answer}))
    assert report.root_cause.service == "postgres"
    assert report.root_cause.summary == base.root_cause.summary
    call = next(c for c in report.model_calls if c.question == "root_cause")
    assert not call.valid and call.outcome.startswith("invalid: ") and reason in call.outcome
    assert report.degraded.startswith("invalid: root_cause:")
    # The other answers were still used.
    assert report.certain[0] == "Its dependants show errors; the rest is at risk."


def test_text_citing_evidence_that_does_not_exist_is_dropped_not_the_choice(
    case: Case, base: Report
) -> None:
    """What Gemma 3 270M did: it chose H1 and wrote "E2" where no E2 exists."""
    invented = GOOD | {
        "root_cause": {"hypothesis": "H1", "confidence": "high", "why": "postgres died, see E99"},
        "impact": {"summary": "everything on db-01 is down, see E42 and E43"},
    }
    report = run(case, base, ScriptedModel(invented))
    root = next(c for c in report.model_calls if c.question == "root_cause")
    assert root.valid and root.outcome == "agreed"
    assert root.dropped == ["'why' cites E99, which does not exist"]
    assert report.root_cause.summary == base.root_cause.summary
    impact = next(c for c in report.model_calls if c.question == "impact")
    assert not impact.valid
    assert impact.outcome == (
        "invalid: nothing it wrote can be used: 'summary' cites E42, E43, which do not exist"
    )
    assert not any("E42" in s for s in report.certain)
    assert report.degraded.startswith("invalid: impact:")


def test_a_fenced_answer_from_a_server_without_schemas_is_read(case: Case, base: Report) -> None:
    fenced = "Sure!\n```json\n" + json.dumps(GOOD["root_cause"]) + "\n```"
    report = run(case, base, ScriptedModel(GOOD | {"root_cause": fenced}))
    assert report.degraded is None
    assert report.root_cause.summary == "postgres was OOM-killed (E1)"


def test_an_answer_cut_at_its_token_cap_is_refused(case: Case, base: Report) -> None:
    report = run(case, base, ScriptedModel(GOOD, finish="length"))
    assert all(not c.valid and "cut at" in c.outcome for c in report.model_calls)
    assert report.root_cause == base.root_cause
    assert re.match(r"invalid: timeline: the answer was cut at \d+ tokens", report.degraded)


def test_a_timeout_stops_the_questions_and_keeps_the_answers_before_it(
    case: Case, base: Report
) -> None:
    model = ScriptedModel(GOOD | {"impact": ChatError("timeout", "no answer within 3 s")})
    report = run(case, base, model)
    assert [q for q, *_ in model.asked] == ["timeline", "root_cause", "impact"]
    assert report.degraded.startswith("timeout: impact:")
    assert report.root_cause.summary == "postgres was OOM-killed (E1)"  # kept
    assert report.tokens["model_calls"] == 3


def test_a_server_error_is_said_as_such(case: Case, base: Report) -> None:
    model = ScriptedModel({"timeline": ChatError("http", "HTTP 500 from http://x: boom")})
    report = run(case, base, model)
    assert report.degraded == "error: timeline: HTTP 500 from http://x: boom"
    assert report.root_cause == base.root_cause and report.certain == base.certain


def test_every_prompt_is_cut_to_fit_the_context(case: Case, base: Report) -> None:
    model = ScriptedModel(GOOD)
    report = run(case, base, model, context_tokens=1024, max_answer_tokens=400)
    for question, messages, _, max_tokens in model.asked:
        counted, _ = model.count_tokens(messages)
        assert counted + max_tokens <= 1024, question
    root = next(c for c in report.model_calls if c.question == "root_cause")
    assert root.counted is not None and root.exact


def test_prompts_aim_at_half_the_context_when_they_can(case: Case, base: Report) -> None:
    model = ScriptedModel(GOOD)
    report = run(case, base, model)  # 4096 tokens of context
    assert all(c.counted is not None and c.counted <= 2048 for c in report.model_calls)
    full = ScriptedModel(GOOD)
    run(case, base, full, context_tokens=32768, mode="focused")
    root = next(m for q, m, *_ in model.asked if q == "root_cause")[-1]["content"]
    root_full = next(m for q, m, *_ in full.asked if q == "root_cause")[-1]["content"]
    assert len(root) < len(root_full)  # cut to the smaller window, not to the larger


def test_a_reason_that_cites_none_of_the_roots_evidence_does_not_replace_the_summary(
    case: Case, base: Report
) -> None:
    vague = {
        "hypothesis": "H1",
        "confidence": "high",
        "why": "postgres was not running at the time",
    }
    report = run(case, base, ScriptedModel(GOOD | {"root_cause": vague}))
    assert report.degraded is None
    assert report.root_cause.summary == base.root_cause.summary
    call = next(c for c in report.model_calls if c.question == "root_cause")
    assert call.outcome == "agreed" and call.answer["why"] == vague["why"]


def test_a_question_that_cannot_fit_is_not_asked(case: Case, base: Report) -> None:
    class Huge(ScriptedModel):
        def count_tokens(
            self, messages: Sequence[Message], *, timeout: float = 10
        ) -> tuple[int, bool]:
            return 50_000, True

    model = Huge(GOOD)
    report = run(case, base, model)
    assert model.asked == []
    assert report.degraded.startswith("budget: timeline: the smallest prompt takes 50000 tokens")
    assert report.tokens["model_calls"] == 0
    assert report.root_cause == base.root_cause


def test_an_answer_that_repeats_the_question_says_nothing(case: Case, base: Report) -> None:
    """What the 270M Gemma really answered before the prompts stopped showing examples:
    the instruction's own placeholders. A choice still counts; empty text does not."""
    parrot = GOOD | {
        "timeline": {"first_failure": "T1", "note": "a few words why"},
        "root_cause": {"hypothesis": "H1", "confidence": "medium", "why": "E1, E2, ..."},
        "impact": {"summary": "..."},
        "reporter": {
            "certain": ["..."],
            "possible": [" "],
            "suggested_actions": ["what to do next"],
        },
    }
    report = run(case, base, ScriptedModel(parrot))
    outcomes = {c.question: (c.valid, c.outcome) for c in report.model_calls}
    assert outcomes["timeline"] == (True, "agreed")
    assert outcomes["root_cause"] == (True, "agreed")
    assert report.root_cause.summary == base.root_cause.summary  # no "why" to show
    assert outcomes["impact"] == (
        False,
        "invalid: nothing it wrote can be used: 'summary' says nothing",
    )
    assert outcomes["reporter"][0] is False
    assert outcomes["reporter"][1].startswith("invalid: nothing it wrote can be used:")
    root = next(c for c in report.model_calls if c.question == "root_cause")
    assert root.dropped == ["'why' says nothing"]
    assert root.answer["why"] == "E1, E2, ..."  # what it said is kept for the record
    assert report.certain == base.certain and report.possible == base.possible
    assert report.degraded.startswith("invalid: impact:")


def test_hostile_model_text_is_cleaned(case: Case, base: Report) -> None:
    loud = {"summary": "@everyone <@123> Final Answer: all is well"}
    report = run(case, base, ScriptedModel(GOOD | {"impact": loud}))
    assert "@everyone" not in report.certain[0] and "<@123>" not in report.certain[0]
    assert "Final Answer:" not in report.certain[0]


def test_the_focused_report_is_stored_and_read_back(case: Case) -> None:
    model = ScriptedModel(GOOD)
    report = investigate(
        case.engine,
        case.topology,
        case.incident.id,
        crew_runner=focused_runner(config(), client=model),
    )
    stored = load_report(case.engine, case.incident.id)
    assert stored is not None
    assert stored.model_calls == report.model_calls and len(stored.model_calls) == 4
    assert Report.from_json(json.loads(json.dumps(report.to_json()))) == dataclasses.replace(report)
    assert "fake/scripted" in stored.report_md
    assert "### Model calls" in stored.report_md
    assert "- root_cause: agreed · 0.25 s ·" in stored.report_md


@pytest.mark.parametrize(
    ("context", "wording", "asked"),
    [
        (4096, "auto", ["timeline", "root_cause"]),
        (8192, "auto", ["timeline", "root_cause", "impact", "reporter"]),
        (4096, "model", ["timeline", "root_cause", "impact", "reporter"]),
        (8192, "analysis", ["timeline", "root_cause"]),
    ],
)
def test_a_small_context_asks_the_model_only_to_choose(
    case: Case, base: Report, context: int, wording: str, asked: list[str]
) -> None:
    model = ScriptedModel(GOOD)
    report = run(case, base, model, context_tokens=context, wording=wording)
    assert [q for q, *_ in model.asked] == asked
    assert report.degraded is None
    if "impact" not in asked:  # the analysis words the report
        assert report.certain == base.certain and report.possible == base.possible
        assert report.root_cause.summary == "postgres was OOM-killed (E1)"


def test_the_mode_follows_the_context_size() -> None:
    assert focused_mode(config())  # 4096 by default
    assert not focused_mode(config(context_tokens=32768, max_answer_tokens=800))
    assert focused_mode(config(context_tokens=32768, mode="focused"))
    assert not focused_mode(config(mode="crew"))


def test_an_answer_cap_that_leaves_no_room_for_the_prompt_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"max_answer_tokens .* at most half of context_tokens"):
        config(context_tokens=1024, max_answer_tokens=800)


def test_the_root_schema_is_plain_json_schema() -> None:
    schema = schema_of(root_model(["H1", "H2"]))
    assert schema["properties"]["hypothesis"]["enum"] == ["H1", "H2", "none"]
    assert schema["properties"]["confidence"]["enum"] == ["low", "medium", "high"]
    assert schema["properties"]["why"]["maxLength"] == 200
    assert answer_cap(schema) >= 200 + len("none")  # a token a character, at worst
    assert "$defs" not in schema and "$ref" not in json.dumps(schema)
