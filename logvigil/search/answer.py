"""What `ask` answers with: typed facts, each with the id that lets a reader check it.

Incidents are cited as `#12`, templates as `T41`, the count as `N1`, a service's
neighbours in the inventory graph as `G1`, `G2`. `Answer.to_json` is what
`ask --json` prints and what the `answers` table keeps; `Answer.from_json` reads it
back for `ask --replay` (pydantic validates the nested dataclasses and parses the
ISO times back to aware UTC datetimes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from logvigil.core.jsonable import jsonable
from logvigil.search.question import Unknown
from logvigil.search.templates import Hit


@dataclass(frozen=True, slots=True)
class IncidentFact:
    id: int
    title: str
    severity: str
    opened_at: datetime
    resolved_at: datetime | None
    root: str | None  # "postgres on db-01", or None when none was found
    services: tuple[str, ...]
    hosts: tuple[str, ...]
    summary: str | None = None  # the report's root-cause summary, when one was written
    affected: tuple[str, ...] = ()  # the report's affected services


@dataclass(frozen=True, slots=True)
class TemplateFact:
    id: int
    template: str
    services: tuple[str, ...]
    lines: int
    first_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class CountFact:
    what: str  # errors, warnings, lines
    total: int
    by: str | None  # hour, day
    buckets: list[tuple[datetime, int]] = field(default_factory=list)  # local starts


@dataclass(frozen=True, slots=True)
class NeighbourFact:
    """A service's edges in the inventory: what it needs, and what needs it."""

    service: str
    depends_on: tuple[str, ...]
    used_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    cites: tuple[str, ...]  # evidence ids: "#12", "T41", "N1", "G1"


@dataclass
class Synthesis:
    """A model's wording of the evidence, as checked: only sentences that cite evidence
    that exists, and state no number or id the evidence does not, are kept."""

    model: str  # "openai/gemma-3-270m"
    sentences: list[Sentence]
    removed: list[str]  # one reason per sentence left out
    status: str  # "checked", "partly removed", "unusable", or "failed: <why>"
    prompt_tokens: int | None = None
    answer_tokens: int | None = None
    seconds: float = 0.0


@dataclass
class Answer:
    question: str
    start: datetime
    end: datetime
    phrase: str | None
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    unknown: tuple[Unknown, ...]
    incidents: list[IncidentFact]
    count: CountFact | None
    top_errors: list[TemplateFact]
    first_seen: list[TemplateFact]
    matches: list[Hit]
    neighbours: list[NeighbourFact] = field(default_factory=list)
    synthesis: Synthesis | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["matches"] = [h.to_json() for h in self.matches]
        return jsonable(out)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Answer:
        """The answer `to_json` wrote; raises pydantic's ValidationError on anything else."""
        return _ADAPTER.validate_python(obj)


_ADAPTER: TypeAdapter[Answer] = TypeAdapter(Answer)
