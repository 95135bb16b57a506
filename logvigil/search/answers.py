"""The answers `ask` gave, kept so that `ask --replay ID` shows one again exactly.

An answer is stored whole (`Answer.to_json`: its question, range, evidence, and the
model's checked wording when a model wrote one) with the zone its times were shown in,
so a replay prints the same text, whatever the store holds by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import Engine, insert, select

from logvigil.search.answer import Answer
from logvigil.store.schema import AnswerRow


class AnswerNotFound(LookupError):
    """No stored answer has this id (or what is stored is not an answer any more)."""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    id: int
    asked_at: datetime
    zone: str
    model: str | None
    answer: Answer


def save_answer(engine: Engine, answer: Answer, *, zone: str, asked_at: datetime) -> int:
    """Keep `answer`; returns its id."""
    model = answer.synthesis.model if answer.synthesis is not None else None
    with engine.begin() as conn:
        result = conn.execute(
            insert(AnswerRow).values(
                asked_at=asked_at,
                question=answer.question,
                model=model,
                zone=zone,
                answer=answer.to_json(),
            )
        )
        (new_id,) = result.inserted_primary_key or (None,)
    return int(new_id)


def load_answer(engine: Engine, answer_id: int) -> StoredAnswer:
    """The answer kept as `answer_id`; raises AnswerNotFound."""
    with engine.connect() as conn:
        row = conn.execute(select(AnswerRow).where(AnswerRow.id == answer_id)).one_or_none()
    if row is None:
        raise AnswerNotFound(f"no answer #{answer_id} in the store")
    try:
        answer = Answer.from_json(row.answer)
    except ValidationError as e:
        raise AnswerNotFound(
            f"answer #{answer_id} was stored in a form this version cannot read: "
            f"{e.errors()[0]['loc']}: {e.errors()[0]['msg']}"
        ) from None
    return StoredAnswer(row.id, row.asked_at, row.zone, row.model, answer)
