"""The focused questions (`investigate.focused`): what each asks, the shape of its answer
(a JSON schema the server holds it to, choices as enums of real ids), the longest
answer that shape allows, and its prompt at each level of detail. Pure: no model, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from string import Template
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from detector.incidents.model import Incident, RootRef
from investigate.analysis import Analysis
from investigate.model import Hypothesis, Report, TimelineEntry
from investigate.prompt import build_context, load_prompt
from investigate.sanitize import clean_text, delimit
from logvigil.core.timeutil import iso_z

#: Characters of one statement taken from the model (summary, why, certain, ...).
MAX_TEXT_CHARS = 300
#: Statements per list taken from the model.
MAX_ITEMS = 3
#: Detail levels of every question's context, fullest first.
LEVELS = 4
#: Characters of the root question's context at each level.
ROOT_CONTEXT_CHARS = (9000, 5000, 2800, 1500)
#: Timeline entries shown at each level.
TIMELINE_ENTRIES = (12, 8, 5, 3)
#: Impact items shown at each level.
IMPACT_ITEMS = (10, 6, 4, 2)
#: The model's confidence, a word: an enum a server's grammar can hold (a number's range
#: it cannot: Gemma 3 270M answered 1.5 under `maximum: 1`), and its value when used.
CONFIDENCE_WORDS = {"low": 0.3, "medium": 0.6, "high": 0.9}


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _text(max_chars: int = MAX_TEXT_CHARS) -> Any:
    return Field(json_schema_extra={"maxLength": max_chars})


def _texts() -> Any:
    return Field(
        default_factory=list,
        json_schema_extra={"maxItems": MAX_ITEMS, "items": {"type": "string", "maxLength": 200}},
    )


class ImpactAnswer(_Answer):
    summary: str = _text()


class ReportAnswer(_Answer):
    certain: list[str] = _texts()
    possible: list[str] = _texts()
    suggested_actions: list[str] = _texts()


def _choice_model(name: str, field: str, ids: Sequence[str], **fields: Any) -> type[_Answer]:
    """An answer model whose `field` is one of `ids` (an enum in its JSON schema)."""
    choice = Literal[tuple(ids)]  # type: ignore[valid-type]
    return create_model(name, __base__=_Answer, **{field: (choice, ...)}, **fields)


def timeline_model(ids: Sequence[str]) -> type[_Answer]:
    return _choice_model("TimelineAnswer", "first_failure", ids, note=(str, _text(120)))


def root_model(ids: Sequence[str]) -> type[_Answer]:
    """The root question's answer: `hypothesis` is one of `ids` or "none"."""
    return _choice_model(
        "RootAnswer",
        "hypothesis",
        [*ids, "none"],
        confidence=(Literal[tuple(CONFIDENCE_WORDS)], ...),
        why=(str, _text(200)),
    )


def answer_cap(schema: dict[str, Any]) -> int:
    """Tokens the longest answer `schema` allows may take: one a character of every
    string at its `maxLength` (a run of digits is a token each), plus the JSON around."""
    tokens = 16
    for prop in schema.get("properties", {}).values():
        items = prop.get("items", {})
        tokens += (
            8 + prop.get("maxLength", 0) + prop.get("maxItems", 0) * (4 + items.get("maxLength", 0))
        )
        if "enum" in prop:
            tokens += max(len(str(v)) for v in prop["enum"])
    return tokens


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent to the server: `model`'s, every property required."""
    schema = model.model_json_schema()
    schema["required"] = list(schema.get("properties", {}))
    return schema


@dataclass(frozen=True)
class Question:
    """One focused question: its answer's shape and its prompt at each detail level."""

    name: str
    model: type[_Answer]
    render: Callable[[int], str]  # the user message at level 0 (fullest) .. LEVELS - 1

    @property
    def prompt(self) -> str:
        """The name of its prompt file (`investigate/prompts/focused_<name>.txt`)."""
        return f"focused_{self.name}"


def entry_line(label: str, e: TimelineEntry, chars: int) -> str:
    who = e.service or (f"host {e.host}" if e.host else "?")
    where = f"{who}@{e.host}" if e.service and e.host else who
    return f"{label} {iso_z(e.at)} {clean_text(where, 80)}: {clean_text(e.summary, chars)}"


def timeline_question(incident: Incident, base: Report) -> Question | None:
    entries = base.timeline
    if len(entries) < 2:
        return None  # nothing to choose
    n_max = min(len(entries), TIMELINE_ENTRIES[0])
    ids = [f"T{i + 1}" for i in range(n_max)]

    def render(level: int) -> str:
        n, chars = min(n_max, TIMELINE_ENTRIES[level]), (160, 120, 80, 60)[level]
        body = "\n".join(entry_line(ids[i], entries[i], chars) for i in range(n))
        return Template(load_prompt("focused_timeline")).safe_substitute(
            incident_id=incident.id, context=delimit(body, "timeline")
        )

    return Question("timeline", timeline_model(ids), render)


def hypothesis_id(i: int) -> str:
    """How focused mode names the ranked hypotheses: `H1`, `H2`, ..."""
    return f"H{i + 1}"


def root_question(incident: Incident, analysis: Analysis) -> tuple[Question, list[Hypothesis]]:
    hyps = build_context(incident, analysis, ROOT_CONTEXT_CHARS[-1]).hypotheses
    ids = [hypothesis_id(i) for i in range(len(hyps))]

    def render(level: int) -> str:
        ctx = build_context(
            incident,
            analysis,
            ROOT_CONTEXT_CHARS[level],
            label=hypothesis_id,
            choose="H1 is the best ranked",
            hypotheses_last=True,
        )
        return Template(load_prompt("focused_root_cause")).safe_substitute(
            incident_id=incident.id, context=ctx.text, choices=", ".join([*ids, "none"])
        )

    return Question("root_cause", root_model(ids), render), hyps


def _root_words(report: Report) -> str:
    rc = report.root_cause
    return "none found" if rc is None else clean_text(str(RootRef(rc.service, rc.host)), 120)


def impact_question(incident: Incident, report: Report) -> Question | None:
    if not report.impact:
        return None

    def render(level: int) -> str:
        items = report.impact[: IMPACT_ITEMS[level]]
        rows = [
            f"- {i.status.replace('_', ' ')}: {clean_text(i.service, 80)}: "
            f"{clean_text(i.summary, 160)}"
            for i in items
        ]
        if len(report.impact) > len(items):
            rows.append(f"- ... {len(report.impact) - len(items)} more")
        return Template(load_prompt("focused_impact")).safe_substitute(
            incident_id=incident.id, root=_root_words(report), context="\n".join(rows)
        )

    return Question("impact", ImpactAnswer, render)


def reporter_question(incident: Incident, report: Report) -> Question:
    def render(level: int) -> str:
        n = (6, 4, 2, 0)[level]
        parts = []
        if report.root_cause is not None:
            parts.append("Why: " + clean_text(report.root_cause.summary, 300))
        parts += ["Timeline:"] + [
            entry_line(f"T{i + 1}", e, 100) for i, e in enumerate(report.timeline[:n])
        ]
        parts += ["Evidence:"] + [
            f"{e.id}: {clean_text(e.service or '-', 60)} template "
            f"{clean_text(e.template or '?', 140)} (lines before {e.count_before}, "
            f"during {e.count_during})"
            for e in report.evidence[: max(n, 2)]
        ]
        parts += ["Known so far:"] + [
            f"- {clean_text(s, 200)}" for s in (report.certain + report.possible)[: n + 2]
        ]
        return Template(load_prompt("focused_reporter")).safe_substitute(
            incident_id=incident.id,
            root=_root_words(report),
            context=delimit("\n".join(parts), "report"),
        )

    return Question("reporter", ReportAnswer, render)
