"""The model's verdict: parse and validate the reporter's final answer, merge it into the
deterministic report.

What the model decides, and what it does not:

- it CHOOSES the root cause among the ranked hypotheses (an index), or says
  none is supported, and writes the summary, what is certain / possible and
  the suggested actions (as prose: its backticks become `'`, so only the
  commands `investigate.shell` builds are shown as commands);
- it never decides whether the incident exists: the report has no field for
  it, and text such as "no incident" is ignored;
- anything else in its final answer (malformed JSON, a missing key, an index
  out of range, a service that is not a hypothesis, a confidence outside
  0..1) is nonsense: `CrewFailure` is raised and the deterministic report
  stands, with `degraded` saying why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from investigate.model import Hypothesis, Report, RootCause, ToolCall
from investigate.sanitize import clean_text

#: Characters of one statement (summary, certain, possible, action) taken from the model.
MAX_STATEMENT_CHARS = 400
#: Statements kept per list from the model.
MAX_STATEMENTS = 5
#: Keys the final answer must have.
ANSWER_KEYS = ("root_cause", "no_root_cause", "certain", "possible", "suggested_actions")

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


class CrewFailure(RuntimeError):
    """The crew gave no usable answer; `reason` goes into the report's `degraded`.

    Carries what was spent anyway (tool calls, tokens, model calls), so a
    degraded report still records it.
    """

    def __init__(
        self,
        reason: str,
        *,
        tool_calls: Sequence[ToolCall] = (),
        tokens: dict[str, int] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tool_calls = list(tool_calls)
        self.tokens = dict(tokens or {})


@dataclass(frozen=True, slots=True)
class Verdict:
    """The reporter's validated answer: a choice among the hypotheses and its statements."""

    hypothesis: int | None
    summary: str
    confidence: float
    certain: list[str]
    possible: list[str]
    suggested_actions: list[str]

    @property
    def no_root_cause(self) -> bool:
        return self.hypothesis is None


def squash(text: str) -> str:
    """`text` without any whitespace: how an answer is compared with the quoted context."""
    return re.sub(r"\s+", "", text)


#: Fewer words than this (words with a letter) say nothing.
MIN_WORDS = 3


def says_nothing(text: str, instruction: str) -> bool:
    """Whether `text` says nothing: fewer than `MIN_WORDS` words, or words of the question
    itself (a small model fills a field with the instruction's description of it)."""
    if sum(1 for w in text.split() if any(ch.isalpha() for ch in w)) < MIN_WORDS:
        return True
    return squash(text).lower() in instruction.lower()


def json_object(text: str, what: str = "the reporter's final answer") -> dict[str, Any]:
    """The JSON object in `text` (a model's answer), tolerant of a Markdown fence and of
    words around it. Raises `CrewFailure` ("nonsense answer: ...", naming `what`)."""
    text = _FENCE.sub("", text.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise CrewFailure(f"nonsense answer: no JSON object in {what}")
    try:
        obj = json.loads(text[start : end + 1], strict=False)  # a raw newline in a string
    except json.JSONDecodeError as e:
        raise CrewFailure(f"nonsense answer: malformed JSON ({e.msg} at {e.pos})") from None
    if not isinstance(obj, dict):
        raise CrewFailure("nonsense answer: the final answer is not a JSON object")
    return obj


def _statements(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key, [])
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise CrewFailure(f"nonsense answer: {key!r} must be a list of strings")
    out = [clean_text(x, MAX_STATEMENT_CHARS) for x in value if x.strip()]
    return out[:MAX_STATEMENTS]


def parse_verdict(text: str, hypotheses: Sequence[Hypothesis], quoted: str = "") -> Verdict:
    """Validate the reporter's final answer against the ranked `hypotheses`.

    Every key of `ANSWER_KEYS` must be there. An answer that merely repeats
    text of `quoted` (the squashed context the model was given: a log line can
    carry a ready-made "final answer") is nonsense too. Accepts an index into
    `hypotheses` (an integer, or the exact service name of one of them), or
    null with `no_root_cause: true`. Raises `CrewFailure`
    ("nonsense answer: ...") for anything else.
    """
    obj = json_object(text)
    if quoted and (squash(json.dumps(obj)) in quoted or squash(text.strip()) in quoted):
        raise CrewFailure("nonsense answer: it repeats text quoted from the logs")
    for key in ANSWER_KEYS:
        if key not in obj:
            raise CrewFailure(f"nonsense answer: missing key {key!r}")
    rc, no_root = obj["root_cause"], obj["no_root_cause"]
    if not isinstance(no_root, bool):
        raise CrewFailure("nonsense answer: 'no_root_cause' must be true or false")
    if rc is None:
        rc = {"hypothesis": None, "summary": "", "confidence": 0.0}
    if not isinstance(rc, dict):
        raise CrewFailure("nonsense answer: 'root_cause' must be an object or null")
    for key in ("hypothesis", "summary", "confidence"):
        if key not in rc:
            raise CrewFailure(f"nonsense answer: missing key 'root_cause.{key}'")
    choice = rc["hypothesis"]
    names = [h.service for h in hypotheses]
    if isinstance(choice, str):
        # A small model may name the hypothesis instead of numbering it: still a choice
        # among them when the name is exactly one hypothesis' service.
        stripped = choice.strip()
        if stripped.isdigit():
            choice = int(stripped)
        elif names.count(stripped) == 1:
            choice = names.index(stripped)
        else:
            raise CrewFailure(
                f"nonsense answer: root cause {clean_text(choice, 60)!r} is not one of the "
                f"ranked hypotheses ({', '.join(str(n) for n in names) or 'none'})"
            )
    if isinstance(choice, bool) or not (choice is None or isinstance(choice, int)):
        raise CrewFailure("nonsense answer: 'root_cause.hypothesis' must be an index or null")
    if choice is not None and not 0 <= choice < len(hypotheses):
        raise CrewFailure(
            f"nonsense answer: hypothesis {choice} is not one of the "
            f"{len(hypotheses)} ranked hypotheses"
        )
    named = rc.get("service")
    if choice is not None and named is not None and named != hypotheses[choice].service:
        raise CrewFailure(
            f"nonsense answer: service {clean_text(str(named), 60)!r} does not match "
            f"hypothesis {choice} ({hypotheses[choice].service})"
        )
    if (choice is None) != no_root:
        raise CrewFailure(
            "nonsense answer: 'hypothesis' must be null exactly when 'no_root_cause' is true"
        )
    conf = rc["confidence"]
    if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1:
        raise CrewFailure("nonsense answer: 'root_cause.confidence' must be a number in 0..1")
    summary = rc["summary"]
    if not isinstance(summary, str) or (choice is not None and not summary.strip()):
        raise CrewFailure("nonsense answer: 'root_cause.summary' must be a non-empty string")
    return Verdict(
        hypothesis=choice,
        summary=clean_text(summary, MAX_STATEMENT_CHARS),
        confidence=float(conf),
        certain=_statements(obj, "certain"),
        possible=_statements(obj, "possible"),
        # The model's actions are prose: a command is only what `investigate.shell` builds
        # from checked names, so no backtick of the model's (or of a log line it quotes)
        # can make its text look like one.
        suggested_actions=[a.replace("`", "'") for a in _statements(obj, "suggested_actions")],
    )


def merge(base: Report, verdict: Verdict, hypotheses: Sequence[Hypothesis]) -> Report:
    """`base` (the deterministic report) with the model's choice and statements in it.

    Only the root cause, its summary and confidence, and the three statement
    lists change (a list the model left empty keeps the deterministic one; the
    deterministic actions that carry a command follow the model's, which are
    prose); the timeline, impact, evidence and hypotheses stay as computed.
    """
    actions = list(base.suggested_actions)
    if verdict.suggested_actions:
        actions = list(verdict.suggested_actions) + [
            a for a in base.suggested_actions if "`" in a and a not in verdict.suggested_actions
        ]
    if verdict.hypothesis is None:
        root = None
    else:
        h = hypotheses[verdict.hypothesis]
        root = RootCause(h.service, h.host, verdict.summary, verdict.confidence, h.evidence)
    return replace(
        base,
        root_cause=root,
        no_root_cause=root is None,
        certain=verdict.certain or list(base.certain),
        possible=verdict.possible or list(base.possible),
        suggested_actions=actions,
    )
