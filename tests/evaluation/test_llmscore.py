"""`llm_metrics`: what counts as a usable answer, an agreement, a call over the context."""

from __future__ import annotations

from typing import Any

from logvigil.evaluation.llmscore import llm_metrics


def call(question: str, outcome: str, *, valid: bool = True, **kw: Any) -> dict[str, Any]:
    return {
        "question": question,
        "outcome": outcome,
        "valid": valid,
        "seconds": kw.pop("seconds", 1.0),
        "prompt_tokens": kw.pop("prompt_tokens", 100),
        "answer_tokens": 10,
        "exact": kw.pop("exact", True),
    } | kw


def incident(degraded: str | None, *calls: dict[str, Any], model: str = "openai/m") -> dict:
    return {
        "id": 1,
        "report": {
            "model": model,
            "degraded": degraded,
            "tokens": {"total_tokens": 110 * len(calls)},
            "duration_s": 2.0,
            "model_calls": list(calls),
        },
    }


def test_usable_agreement_and_cost() -> None:
    m = llm_metrics(
        "openai/m",
        [
            incident(None, call("timeline", "agreed"), call("root_cause", "agreed")),
            # A valid answer that lost to the evidence is usable: the design working.
            incident("disagreed: root_cause: it chose x", call("root_cause", "disagreed: x")),
            incident(
                "invalid: root_cause: no JSON", call("root_cause", "invalid: no", valid=False)
            ),
            incident(
                "timeout: timeline: slow",
                call("timeline", "timeout: slow", valid=False, prompt_tokens=None, seconds=5.0),
            ),
            incident(
                "budget: root_cause: too big",
                call("root_cause", "budget: the smallest", valid=False, prompt_tokens=None),
            ),
            incident(None),  # nothing to ask
            {"id": 9, "report": {"model": "none"}},  # the deterministic report: not the model's
            {"id": 10},  # no report at all
        ],
    )
    assert (m.investigations, m.unasked, m.usable) == (5, 1, 2)
    assert m.degraded == {"budget": 1, "disagreed": 1, "invalid": 1, "timeout": 1}
    assert (m.root_answers, m.agreed, m.disagreed, m.accepted) == (2, 1, 1, 0)
    assert m.agreement == 0.5
    assert m.calls == 5  # the budget-refused question was never sent
    assert m.valid_calls == 3 and m.over_context == 0
    assert m.call_seconds.count(5.0) == 1
    assert not m.passed  # 2 of 5 usable is under 90%


def test_a_call_the_server_counted_over_the_context_fails_its_requirement() -> None:
    over = call("root_cause", "budget: the server counted 5000 tokens", valid=False)
    m = llm_metrics("openai/m", [incident("budget: root_cause: over", over)])
    assert m.over_context == 1
    verdicts = {r.name: r.passed for r in m.requirements()}
    assert verdicts["every model call within the context"] is False
