"""Typed values of an investigation: tool results, hypotheses and the `Report`.

Every value here round-trips through JSON (`to_json` / `from_json`) because the
report, and every tool output the model saw, is stored with the incident so
that `investigate --incident N` replays it exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from logvigil.core.jsonable import jsonable
from logvigil.core.timeutil import parse_iso

#: Bumped when the prompts or the report's shape change; stored with every report.
PROMPT_VERSION = "2026-11-30.1"
#: A confidence from this high reads "high", from MEDIUM "medium", below it "low".
HIGH, MEDIUM = 0.75, 0.5


def confidence_label(confidence: float) -> str:
    """How a report words a root cause's confidence: `high`, `medium` or `low`."""
    return "high" if confidence >= HIGH else "medium" if confidence >= MEDIUM else "low"


class ToolStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What an evidence tool returns: never raises into the crew.

    `data` is JSON-able. `error` carries the full detail when status is ERROR
    (an unknown service with a "did you mean", a database error), so a model
    can correct its next call.
    """

    tool: str
    status: ToolStatus
    data: Any = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "status": self.status.value,
            "data": self.data,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ToolResult:
        return cls(obj["tool"], ToolStatus(obj["status"]), obj.get("data"), obj.get("error"))


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call as it reached the model: arguments and the exact output text."""

    tool: str
    arguments: dict[str, Any]
    status: str
    output: str  # what the model was given (already sanitised and truncated)
    agent: str = ""


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One question put to the model in focused mode (`investigate.focused`), as measured.

    `prompt_tokens` / `answer_tokens` are the server's own counts (None when it gave
    none); `counted` is what LogVigil counted before sending (`exact` when with the
    server's tokenizer) to keep the prompt within `llm.context_tokens`. `outcome` says
    what became of the answer: `used`, `agreed`, `accepted: ...`, `disagreed: ...`,
    `invalid: ...`, `timeout: ...`, `error: ...`, `budget: ...`, `skipped: ...`.
    """

    question: str
    seconds: float
    valid: bool
    outcome: str
    structured: str = "none"
    prompt_tokens: int | None = None
    answer_tokens: int | None = None
    counted: int | None = None
    exact: bool = False
    answer: dict[str, Any] | None = None
    #: What of the answer was not used, and why ("'why' cites E9, which does not exist").
    dropped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """A piece of evidence behind a claim: a template, its counts and sample lines."""

    id: str  # "E1", "E2", ... referenced by claims
    service: str | None
    host: str | None
    template_id: int | None
    template: str | None
    count_before: int | None = None
    count_during: int | None = None
    samples: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """A candidate root cause with its score and the evidence ids behind it."""

    service: str | None
    host: str | None
    score: float
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RootCause:
    service: str | None
    host: str | None
    summary: str
    confidence: float  # 0..1
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImpactItem:
    service: str
    status: str  # "affected" (shows anomalies after the root), "at_risk" (quiet, or troubled first)
    summary: str
    evidence: tuple[str, ...] = ()
    depth: int | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    service: str | None
    host: str | None
    summary: str
    template_id: int | None = None


@dataclass
class Report:
    """The investigation of one incident.

    `root_cause` is None exactly when `no_root_cause` is True ("no root cause
    found" is an answer, not a failure). `model` is "none" for the
    deterministic report; `degraded` says why a model's answer was not used
    (timeout, error, nonsense) when the deterministic report stands in.
    """

    incident_id: int
    title: str
    root_cause: RootCause | None
    no_root_cause: bool
    critical_failure: TimelineEntry | None
    impact: list[ImpactItem]
    timeline: list[TimelineEntry]
    evidence: list[EvidenceItem]
    hypotheses: list[Hypothesis]
    certain: list[str]
    possible: list[str]
    suggested_actions: list[str]
    model: str = "none"
    prompt_version: str = PROMPT_VERSION
    tool_calls: list[ToolCall] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    created_at: datetime | None = None
    degraded: str | None = None
    report_md: str = ""
    #: The incident's status when it was investigated ("resolved" for a late report).
    incident_status: str | None = None
    #: Focused mode: each question put to the model, with its tokens, time and fate.
    model_calls: list[ModelCall] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Report:
        def ts(v: Any) -> datetime | None:
            return None if v is None else parse_iso(v)

        def entry(e: dict[str, Any] | None) -> TimelineEntry | None:
            if e is None:
                return None
            return TimelineEntry(
                ts(e["at"]), e.get("service"), e.get("host"), e["summary"], e.get("template_id")
            )

        rc = obj.get("root_cause")
        return cls(
            incident_id=obj["incident_id"],
            title=obj.get("title", ""),
            root_cause=None
            if rc is None
            else RootCause(
                rc.get("service"),
                rc.get("host"),
                rc["summary"],
                float(rc["confidence"]),
                tuple(rc.get("evidence", ())),
            ),
            no_root_cause=bool(obj.get("no_root_cause")),
            critical_failure=entry(obj.get("critical_failure")),
            impact=[
                ImpactItem(
                    i["service"],
                    i["status"],
                    i["summary"],
                    tuple(i.get("evidence", ())),
                    i.get("depth"),
                )
                for i in obj.get("impact", [])
            ],
            timeline=[e for e in (entry(x) for x in obj.get("timeline", [])) if e is not None],
            evidence=[
                EvidenceItem(
                    e["id"],
                    e.get("service"),
                    e.get("host"),
                    e.get("template_id"),
                    e.get("template"),
                    e.get("count_before"),
                    e.get("count_during"),
                    tuple(e.get("samples", ())),
                    e.get("note", ""),
                )
                for e in obj.get("evidence", [])
            ],
            hypotheses=[
                Hypothesis(
                    h.get("service"),
                    h.get("host"),
                    float(h["score"]),
                    tuple(h.get("reasons", ())),
                    tuple(h.get("evidence", ())),
                )
                for h in obj.get("hypotheses", [])
            ],
            certain=list(obj.get("certain", [])),
            possible=list(obj.get("possible", [])),
            suggested_actions=list(obj.get("suggested_actions", [])),
            model=obj.get("model", "none"),
            prompt_version=obj.get("prompt_version", PROMPT_VERSION),
            tool_calls=[
                ToolCall(
                    c["tool"],
                    dict(c.get("arguments", {})),
                    c["status"],
                    c["output"],
                    c.get("agent", ""),
                )
                for c in obj.get("tool_calls", [])
            ],
            tokens=dict(obj.get("tokens", {})),
            duration_s=float(obj.get("duration_s", 0.0)),
            created_at=ts(obj.get("created_at")),
            degraded=obj.get("degraded"),
            report_md=obj.get("report_md", ""),
            incident_status=obj.get("incident_status"),
            model_calls=[
                ModelCall(
                    c["question"],
                    float(c.get("seconds", 0.0)),
                    bool(c.get("valid")),
                    c.get("outcome", ""),
                    c.get("structured", "none"),
                    c.get("prompt_tokens"),
                    c.get("answer_tokens"),
                    c.get("counted"),
                    bool(c.get("exact")),
                    c.get("answer"),
                    list(c.get("dropped", [])),
                )
                for c in obj.get("model_calls", [])
            ],
        )
