"""Template vectors in the store: which are missing or stale, the backfill, and reading
the current ones for a search.

A template's vector (`template_embeddings`) is current for one model while its
`text_version` is `embed.TEXT_VERSION` and its `text_hash` is the hash of the
template's text as embedded today: a template the miner generalised (its text
changed), a new rendering or another model all make it stale, and the backfill
embeds it again. The backfill runs off the ingest path (the daemon's scheduler,
or `logvigil search` when asked), in batches, and never deletes a vector of
another model.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, and_, select

from logvigil.search.embed import TEXT_VERSION, Embedder, embedding_text
from logvigil.store.schema import Template, TemplateEmbedding
from logvigil.store.upsert import upsert

if TYPE_CHECKING:
    import numpy as np


def text_hash(template: str) -> str:
    """The hash a vector of `template` is stored with (of its embedded text)."""
    return hashlib.sha256(embedding_text(template).encode()).hexdigest()


def stale(conn: Connection, model: str) -> list[tuple[int, str]]:
    """(id, text) of every template without a current vector of `model`, oldest first."""
    rows = conn.execute(
        select(
            Template.id,
            Template.template,
            TemplateEmbedding.text_hash,
            TemplateEmbedding.text_version,
        )
        .outerjoin(
            TemplateEmbedding,
            and_(TemplateEmbedding.template_id == Template.id, TemplateEmbedding.model == model),
        )
        .order_by(Template.id)
    )
    return [
        (tid, text)
        for tid, text, stored, version in rows
        if stored is None or version != TEXT_VERSION or stored != text_hash(text)
    ]


def backfill(engine: Engine, embedder: Embedder, now: datetime, limit: int | None = None) -> int:
    """Embed the templates whose vector is missing or stale, in batches; how many were.

    Each batch is written in its own transaction, so a failure keeps what was done.
    Raises `embed.EmbedError` from the server.
    """
    import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

    with engine.connect() as conn:
        todo = stale(conn, embedder.name)
    if limit is not None:
        todo = todo[:limit]
    table = TemplateEmbedding.__table__
    size = embedder.config.batch_size
    for start in range(0, len(todo), size):
        batch = todo[start : start + size]
        vectors = embedder.embed([embedding_text(text) for _, text in batch])
        rows = [
            {
                "template_id": tid,
                "model": embedder.name,
                "dim": int(vector.shape[0]),
                "text_version": TEXT_VERSION,
                "text_hash": text_hash(text),
                "vector": vector.astype(np.float32).tobytes(),
                "embedded_at": now,
            }
            for (tid, text), vector in zip(batch, vectors, strict=True)
        ]
        replace = {c: "replace" for c in rows[0] if c not in ("template_id", "model")}
        with engine.begin() as conn:
            upsert(conn, table, rows, replace)  # type: ignore[arg-type]
    return len(todo)


def current(conn: Connection, model: str) -> tuple[list[int], np.ndarray]:
    """(template ids, their vectors as rows) of `model`'s current vectors; stale ones and
    any of another dimension than the most common are left out."""
    import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

    rows = conn.execute(
        select(
            TemplateEmbedding.template_id,
            TemplateEmbedding.dim,
            TemplateEmbedding.vector,
            TemplateEmbedding.text_hash,
            TemplateEmbedding.text_version,
            Template.template,
        )
        .join(Template, Template.id == TemplateEmbedding.template_id)
        .where(TemplateEmbedding.model == model)
        .order_by(TemplateEmbedding.template_id)
    ).all()
    fresh = [r for r in rows if r[4] == TEXT_VERSION and r[3] == text_hash(r[5])]
    if not fresh:
        return [], np.zeros((0, 0), dtype=np.float32)
    dims = [r[1] for r in fresh]
    dim = max(set(dims), key=dims.count)
    kept = [r for r in fresh if r[1] == dim]
    matrix = np.frombuffer(b"".join(r[2] for r in kept), dtype=np.float32).reshape(-1, dim)
    return [r[0] for r in kept], matrix
