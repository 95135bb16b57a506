"""Focused mode: the crew for small local models, one schema-constrained question per agent.

A 270M to 3B model on a small machine cannot drive CrewAI's open-ended tool
loops: its prompts outgrow a 4k context, it invents tool names, and its final
answer is rarely the JSON asked for. So in focused mode (`llm.mode`, chosen by
`llm.context_tokens`, see `investigate.llm.focused_mode`) the evidence is
fetched by code (the deterministic analysis has already run every tool) and
each of the four agents asks the model ONE question whose answer is
constrained to a JSON schema at the server (`investigate.chat`):

1. **timeline**: which entry of the deterministic timeline is the first failure
   (an enum of the entries' ids `T1..Tn`);
2. **root_cause**: which ranked hypothesis is the root cause (an enum of their
   ids `H1..Hn` or `none`), how confident (`low`, `medium`, `high`), and why;
3. **impact**: one or two sentences on what is affected and what is at risk;
4. **reporter**: what is certain, what is possible, what to do next.

(Their answers' schemas and prompts are in `investigate.questions`; this module asks
them, checks the answers and decides what the report takes.)

Questions 3 and 4 are asked only when the model words the report (`llm.wording`,
by default from 8k tokens of context): below that, the model only chooses and
the analysis words the report.

Budget: every prompt is counted before it is sent (with the server's own
tokenizer when it has one) and its context is cut, level by level, until it takes
at most half of `llm.context_tokens` (a small model on a CPU reads about 100 to
200 tokens a second: fewer tokens are answers sooner), or failing that until the
prompt and the answer's cap (`answer_cap`: the longest answer its schema allows) fit
the context; a question that cannot
fit is not asked (`budget: ...`). The whole investigation has
`llm.timeout_seconds`; a timeout or a server error stops the remaining questions.

What the model writes is used only when it says something true to the bundle: a
free-text field of fewer than `verdict.MIN_WORDS` words, made of the question's own words
(tiny models fill a field with the instruction's description of it), or citing an
evidence id that does not exist, is dropped (said in `ModelCall.dropped`), and a
question left with nothing is `invalid`. A choice stands on its own: the server's
grammar held it to its enum. The model's reason for its root
replaces the analysis' summary only when it cites evidence of that root.

Who wins (the deterministic analysis is calibrated, the model is not):

- the model's root is taken when it agrees with the deterministic one, or when the
  deterministic analysis could not separate them: its confidence is below
  `MEDIUM` and the model's pick scores within `CLOSE_MARGIN` of the best;
- otherwise the deterministic root stands, the model's view is shown under
  "possible" with its reason, and the report is marked `disagreed: ...`;
- an answer that breaks its schema (or cites evidence ids that do not exist) is
  not used: `invalid: ...`. Every question's tokens, time and fate are in
  `Report.model_calls`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from detector.incidents.model import Incident, RootRef
from investigate.analysis import Analysis
from investigate.analysis.hypotheses import CLOSE_MARGIN
from investigate.chat import ChatClient, ChatError, Message, client_for
from investigate.llm import LLMConfig, model_words
from investigate.model import MEDIUM, Hypothesis, ModelCall, Report
from investigate.prompt import load_prompt
from investigate.questions import (
    CONFIDENCE_WORDS,
    LEVELS,
    MAX_ITEMS,
    MAX_TEXT_CHARS,
    Question,
    answer_cap,
    entry_line,
    hypothesis_id,
    impact_question,
    reporter_question,
    root_question,
    schema_of,
    timeline_question,
)
from investigate.sanitize import clean_text
from investigate.service import CrewRunner
from investigate.tools import EvidenceTools
from investigate.verdict import CrewFailure, Verdict, json_object, merge, says_nothing, squash

_EVIDENCE_ID = re.compile(r"\bE(\d+)\b")
#: Words (with a letter) a statement of the model needs to say something.


class Stop(Exception):
    """The remaining questions are not asked (timeout, server error); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Asker:
    """Puts questions to one model within one investigation's context and time budget."""

    client: ChatClient
    config: LLMConfig
    deadline: float
    evidence_ids: frozenset[str]
    calls: list[ModelCall]
    sent: int = 0

    def ask(self, q: Question) -> dict[str, Any] | None:
        """The validated answer to `q` (its fields), or None (the reason is in `self.calls`).

        Raises `Stop` on a timeout or a server error: nothing more is asked.
        """
        schema = schema_of(q.model)
        answer_tokens = min(answer_cap(schema), self.config.max_answer_tokens)
        room = self.config.context_tokens - answer_tokens
        # One user turn holding the brief and the question: Gemma's chat template has no
        # system role (llama-cpp-python's `gemma` format drops a system message).
        brief = load_prompt("focused_system")
        target = min(room, self.config.context_tokens // 2)
        fitting: tuple[list[Message], int, bool] | None = None
        counted, exact = 0, False
        for level in range(LEVELS):
            messages = [{"role": "user", "content": f"{brief}\n{q.render(level)}"}]
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Stop(f"timeout after {self.config.timeout_seconds:g}s")
            counted, exact = self.client.count_tokens(messages, timeout=min(left, 10.0))
            if counted <= room and fitting is None:
                fitting = (messages, counted, exact)
            if counted <= target:
                fitting = (messages, counted, exact)
                break
        if fitting is None:
            return self._record(
                q,
                0.0,
                f"budget: the smallest prompt takes {counted} tokens, {room} are left "
                f"for it in a context of {self.config.context_tokens}",
                counted=counted,
                exact=exact,
            )
        messages, counted, exact = fitting
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise Stop(f"timeout after {self.config.timeout_seconds:g}s")
        self.sent += 1
        try:
            got = self.client.ask(messages, schema, max_tokens=answer_tokens, timeout=remaining)
        except ChatError as e:
            kind = "timeout" if e.kind == "timeout" else "error"
            self._record(q, remaining if kind == "timeout" else 0.0, f"{kind}: {e}")
            raise Stop(f"{kind}: {q.name}: {e}") from None
        seen = {
            "structured": got.structured,
            "prompt_tokens": got.prompt_tokens,
            "answer_tokens": got.answer_tokens,
            "counted": counted,
            "exact": exact,
        }
        used = (got.prompt_tokens or 0) + (got.answer_tokens or 0)
        if used > self.config.context_tokens:
            return self._record(
                q,
                got.seconds,
                f"budget: the server counted {used} tokens, over the context of "
                f"{self.config.context_tokens}",
                **seen,
            )
        if got.finish == "length":
            return self._record(
                q, got.seconds, f"invalid: the answer was cut at {answer_tokens} tokens", **seen
            )
        try:
            parsed = q.model.model_validate(json_object(got.text, f"the {q.name} answer"))
        except CrewFailure as e:
            return self._record(q, got.seconds, f"invalid: {e.reason}", **seen)
        except ValidationError as e:
            return self._record(q, got.seconds, f"invalid: {_first_error(e)}", **seen)
        said = parsed.model_dump()
        answer, dropped = _usable(said, squash(load_prompt(q.prompt)), schema, self.evidence_ids)
        if not any(answer.values()):
            return self._record(
                q,
                got.seconds,
                f"invalid: nothing it wrote can be used: {'; '.join(dropped)}",
                **seen,
            )
        self.calls.append(
            ModelCall(q.name, got.seconds, True, "used", answer=said, dropped=dropped, **seen)
        )
        return answer

    def _record(self, q: Question, seconds: float, outcome: str, **seen: Any) -> None:
        self.calls.append(ModelCall(q.name, round(seconds, 3), False, outcome, **seen))
        return None


def _usable(
    answer: dict[str, Any], instruction: str, schema: dict[str, Any], evidence: frozenset[str]
) -> tuple[dict[str, Any], list[str]]:
    """`answer` with every free-text value that says nothing or cites evidence that does not
    exist emptied, and why each was (a choice, a field with an `enum` in `schema`, is
    kept: the server's grammar held it)."""
    choices = {k for k, prop in schema.get("properties", {}).items() if "enum" in prop}
    out: dict[str, Any] = {}
    dropped: list[str] = []

    def keep(key: str, text: str) -> bool:
        invented = sorted({m for m in _EVIDENCE_ID.findall(text)} - {e[1:] for e in evidence})
        if invented:
            cited = ", ".join(f"E{n}" for n in invented)
            verb = "does" if len(invented) == 1 else "do"
            dropped.append(f"{key!r} cites {cited}, which {verb} not exist")
            return False
        if says_nothing(text, instruction):
            dropped.append(f"{key!r} says nothing")
            return False
        return True

    for key, value in answer.items():
        if isinstance(value, str) and key not in choices:
            value = value if keep(key, value) else ""
        elif isinstance(value, list):
            value = [v for v in value if not isinstance(v, str) or keep(key, v)]
        out[key] = value
    return out, dropped


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "answer"
    return f"{where}: {err.get('msg', 'invalid')}"


# -- who wins ----------------------------------------------------------------------------


def _close(chosen: Hypothesis, best: Hypothesis) -> bool:
    return chosen.score >= (1 - CLOSE_MARGIN) * best.score


def decide_root(
    base: Report, hyps: Sequence[Hypothesis], answer: dict[str, Any], model: str
) -> tuple[int | None, str, str | None]:
    """(the hypothesis index the report takes, the question's outcome, a statement of the
    model's view for "possible" when it was not taken)."""
    det = 0 if base.root_cause is not None and hyps else None
    picked = answer["hypothesis"]
    choice = None if picked == "none" else int(picked[1:]) - 1
    why = clean_text(answer.get("why", ""), MAX_TEXT_CHARS)
    if choice == det:
        return det, "agreed", None
    name = "no root cause" if choice is None else _hyp_words(hyps[choice])
    view = f"the model ({model}) named {name} as the root cause" + (f": {why}" if why else "")
    if det is not None and choice is not None:
        conf = base.root_cause.confidence if base.root_cause else 0.0
        if conf < MEDIUM and _close(hyps[choice], hyps[0]):
            return (
                choice,
                f"accepted: {hyp_id_words(choice, hyps)} scores within "
                f"{CLOSE_MARGIN:.0%} of {hyp_id_words(0, hyps)} and the deterministic "
                f"confidence is {conf:.2f}",
                None,
            )
        because = (
            f"the deterministic confidence in {_hyp_words(hyps[0])} is {conf:.2f}"
            if conf >= MEDIUM
            else f"{_hyp_words(hyps[0])} scores {hyps[0].score:.2f} against "
            f"{hyps[choice].score:.2f}"
        )
    elif det is None:
        because = "the evidence supports none of the hypotheses"
    else:
        because = f"the evidence points at {_hyp_words(hyps[0])}"
    return det, f"disagreed: it chose {name}; kept the deterministic root: {because}", view


def _hyp_words(h: Hypothesis) -> str:
    return clean_text(str(RootRef(h.service, h.host)), 120)


def hyp_id_words(i: int, hyps: Sequence[Hypothesis]) -> str:
    return f"{hypothesis_id(i)} ({_hyp_words(hyps[i])})"


def _grounded(why: str, h: Hypothesis) -> bool:
    """Whether the model's reason cites evidence of the hypothesis it explains: only then
    does it replace the analysis' summary (a small model's free text often does not)."""
    return bool(set(_EVIDENCE_ID.findall(why)) & {e[1:] for e in h.evidence})


def _statements(values: Sequence[str]) -> list[str]:
    return [clean_text(v, MAX_TEXT_CHARS) for v in values if v.strip()][:MAX_ITEMS]


# -- the run -----------------------------------------------------------------------------


def focused_report(
    incident: Incident,
    analysis: Analysis,
    base: Report,
    config: LLMConfig,
    client: ChatClient,
) -> Report:
    """`base` with the model's answers to the four focused questions merged in.

    Never raises for a model's failure: what could not be used is said in
    `degraded`, and every question is recorded in `model_calls`. Answers given
    before a timeout or a server error are kept.
    """
    started = time.monotonic()
    asker = Asker(
        client,
        config,
        started + config.timeout_seconds,
        frozenset(e.id for e in base.evidence),
        [],
    )
    calls = asker.calls
    root_q, hyps = root_question(incident, analysis)
    chosen = 0 if base.root_cause is not None and hyps else None
    summary = base.root_cause.summary if base.root_cause else ""
    confidence = base.root_cause.confidence if base.root_cause else 0.0
    report, certain, possible, actions = base, [], [], []
    stopped = None
    try:
        tl = timeline_question(incident, base)
        tl_answer = asker.ask(tl) if tl is not None else None
        if tl_answer is not None:
            possible += _timeline_view(base, tl_answer["first_failure"], calls)
        root_answer = asker.ask(root_q) if hyps else None
        if root_answer is not None:
            chosen, outcome, view = decide_root(base, hyps, root_answer, client.name)
            calls[-1] = replace(calls[-1], outcome=outcome)
            why = clean_text(root_answer["why"], MAX_TEXT_CHARS)
            if chosen is not None and _grounded(why, hyps[chosen]):
                summary = why
            if outcome.startswith("accepted"):
                confidence = min(confidence, CONFIDENCE_WORDS[root_answer["confidence"]])
            if view:
                possible.append(view)
        report = merge(base, Verdict(chosen, summary, confidence, [], [], []), hyps)
        words = model_words(config)
        impact_q = impact_question(incident, report) if words else None
        impact_answer = asker.ask(impact_q) if impact_q is not None else None
        if impact_answer is not None:
            certain += _statements([impact_answer["summary"]])
        stated = asker.ask(reporter_question(incident, report)) if words else None
        if stated is not None:
            certain += _statements(stated["certain"])
            possible = _statements(stated["possible"]) + possible
            actions = [a.replace("`", "'") for a in _statements(stated["suggested_actions"])]
    except Stop as e:
        stopped = e.reason
    # The model's actions are prose; the deterministic ones that carry a command follow.
    report = merge(base, Verdict(chosen, summary, confidence, [], [], actions), hyps)
    prompt = sum(c.prompt_tokens or 0 for c in calls)
    answer = sum(c.answer_tokens or 0 for c in calls)
    return replace(
        report,
        certain=certain + list(base.certain),
        possible=possible + list(base.possible),
        model=client.name,
        degraded=_degraded(calls, stopped),
        model_calls=list(calls),
        tokens={
            "prompt_tokens": prompt,
            "completion_tokens": answer,
            "total_tokens": prompt + answer,
            "model_calls": asker.sent,
        },
        duration_s=round(time.monotonic() - started, 3),
    )


def _timeline_view(base: Report, picked: str, calls: list[ModelCall]) -> list[str]:
    """The model's first failure as a "possible" statement when it is not the analysis'."""
    i = int(picked[1:]) - 1
    det = (
        base.timeline.index(base.critical_failure)
        if base.critical_failure in base.timeline
        else None
    )
    if i == det:
        calls[-1] = replace(calls[-1], outcome="agreed")
        return []
    calls[-1] = replace(calls[-1], outcome=f"differs: it reads {picked} as the first failure")
    e = base.timeline[i]
    return [f"the model reads this as the first failure: {entry_line(picked, e, 160)}"]


def _degraded(calls: Sequence[ModelCall], stopped: str | None) -> str | None:
    """Why some of the model's answers were not used, by kind, or None."""
    kinds = ("timeout", "error", "budget", "invalid", "disagreed")
    reasons = [
        f"{c.outcome.split(':', 1)[0]}: {c.question}:{c.outcome.split(':', 1)[1]}"
        for c in calls
        if c.outcome.split(":", 1)[0] in kinds and c.question
    ]
    if stopped and not any(r.startswith(stopped.split(":", 1)[0]) for r in reasons):
        reasons.insert(0, stopped)
    return "; ".join(reasons) or None


def focused_runner(config: LLMConfig, client: ChatClient | None = None) -> CrewRunner:
    """A runner for `investigate.service.investigate(..., crew_runner=...)` in focused mode.

    `client` overrides the configured server (tests pass one at a local URL).
    """
    used = client_for(config) if client is None else client

    def run(incident: Incident, analysis: Analysis, _tools: EvidenceTools, base: Report) -> Report:
        return focused_report(incident, analysis, base, config, used)

    return run
