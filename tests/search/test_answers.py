"""Stored answers (`ask --replay`) on every backend: what is kept is read back equal, an
unknown id or a row this version cannot read is a clear error, nothing else is touched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from logvigil.search.answer import (
    Answer,
    CountFact,
    IncidentFact,
    NeighbourFact,
    Sentence,
    Synthesis,
    TemplateFact,
)
from logvigil.search.answers import AnswerNotFound, load_answer, save_answer
from logvigil.search.question import Unknown
from logvigil.search.templates import Hit
from logvigil.store.schema import AnswerRow

T = datetime(2026, 3, 3, 1, 2, 3, 456000, tzinfo=UTC)


def full_answer() -> Answer:
    return Answer(
        question="what happened on db-01 <script>x</script> ☃ last night?",
        start=T,
        end=datetime(2026, 3, 3, 6, tzinfo=UTC),
        phrase="last night",
        hosts=("db-01",),
        services=("postgres",),
        unknown=(Unknown("ngnix", ("nginx",)),),
        incidents=[
            IncidentFact(
                7,
                "postgres OOM-killed",
                "critical",
                T,
                None,
                "postgres on db-01",
                ("postgres", "nextcloud"),
                ("db-01",),
                "killed by the OOM killer",
                ("nextcloud",),
            )
        ],
        count=CountFact("errors", 42, "hour", [(T, 40), (datetime(2026, 3, 3, 2, tzinfo=UTC), 2)]),
        top_errors=[TemplateFact(41, "Out of memory: Killed process <*>", ("postgres",), 3)],
        first_seen=[TemplateFact(42, "could not read block <*>", ("postgres",), 5, T)],
        matches=[
            Hit(
                41,
                "Out of memory: Killed process <*>",
                3.5,
                "error",
                ["postgres"],
                ["db-01"],
                T,
                T,
                3,
                {"postgres": 3},
                "Out of memory: Killed process 812 (postgres)",
                ["oom"],
            )
        ],
        neighbours=[NeighbourFact("postgres", (), ("nextcloud",))],
        synthesis=Synthesis(
            "openai/m",
            [Sentence("Postgres was OOM-killed.", ("#7", "T41"))],
            ["says nothing"],
            "partly removed",
            100,
            20,
            1.5,
        ),
    )


def test_an_answer_is_read_back_equal(engine: Engine) -> None:
    a = full_answer()
    first = save_answer(engine, a, zone="Europe/Berlin", asked_at=T)
    second = save_answer(
        engine, Answer(**{**a.__dict__, "synthesis": None}), zone="UTC", asked_at=T
    )
    assert second == first + 1
    stored = load_answer(engine, first)
    assert stored.answer == a
    assert (stored.zone, stored.model, stored.asked_at) == ("Europe/Berlin", "openai/m", T)
    assert load_answer(engine, second).model is None


def test_an_unknown_or_unreadable_answer_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(AnswerNotFound, match="no answer #404"):
        load_answer(engine, 404)
    kept = save_answer(engine, full_answer(), zone="UTC", asked_at=T)
    broken = save_answer(engine, full_answer(), zone="UTC", asked_at=T)
    with engine.begin() as conn:
        conn.execute(update(AnswerRow).where(AnswerRow.id == broken).values(answer={"question": 3}))
    with pytest.raises(AnswerNotFound, match=f"answer #{broken} was stored in a form"):
        load_answer(engine, broken)
    assert load_answer(engine, kept).answer == full_answer()  # nothing else is lost
