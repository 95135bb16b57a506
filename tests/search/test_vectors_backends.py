"""Template vectors on every backend: written, replaced when the text changes, and read
back bit for bit (SQLite, and PostgreSQL and MariaDB when their URLs are set)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from embed_server import EmbedServer, bag_of_words
from sqlalchemy import Engine, insert, update

from logvigil.search.embed import Embedder, EmbeddingsConfig, embedding_text, normalised
from logvigil.search.vectors import backfill, current
from logvigil.store.schema import Template

NOW = datetime(2026, 3, 5, tzinfo=UTC)
TEMPLATES = {
    1: "Out of memory: Killed process <*> (postgres)",
    2: "write /srv/backup/<*>: no space left on device",
    3: "Failed password for invalid user <*> from <*> port <*> ssh2",
}


def test_vectors_round_trip_and_are_replaced(engine: Engine, embed_server: EmbedServer) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Template),
            [
                {
                    "id": i,
                    "template": t,
                    "first_seen": NOW,
                    "last_seen": NOW,
                    "count": 1,
                    "max_severity": 4,
                }
                for i, t in TEMPLATES.items()
            ],
        )
    e = Embedder(EmbeddingsConfig(provider="ollama", model="bag", base_url=embed_server.url))
    assert backfill(engine, e, NOW) == 3
    with engine.connect() as conn:
        ids, matrix = current(conn, e.name)
    want = normalised([bag_of_words(embedding_text(TEMPLATES[i])) for i in (1, 2, 3)])
    assert ids == [1, 2, 3] and np.array_equal(matrix, want)
    with engine.begin() as conn:
        conn.execute(update(Template).where(Template.id == 2).values(template="disk full <*>"))
    assert backfill(engine, e, NOW) == 1  # the upsert replaces the stale row
    with engine.connect() as conn:
        ids, matrix = current(conn, e.name)
    assert ids == [1, 2, 3]
    assert np.array_equal(matrix[1], normalised(bag_of_words("disk full …"))[0])
