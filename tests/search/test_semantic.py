"""Semantic search end to end on a real store: the backfill writes one vector per template
(again when the template's text or the model changes), `search` fuses the rankings, and
a server that fails leaves the lexical ranking answering."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from embed_server import EmbedServer
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from logvigil.app.settings import load_settings
from logvigil.cli import app
from logvigil.search.embed import Embedder, EmbeddingsConfig, embedding_text
from logvigil.search.templates import search_templates
from logvigil.search.vectors import backfill, current, stale
from logvigil.store.database import create_store_engine
from logvigil.store.schema import Template, TemplateEmbedding

runner = CliRunner()
NOW = datetime(2026, 3, 5, tzinfo=UTC)


@pytest.fixture
def store(homelab_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store.db"
    shutil.copy(homelab_db, copy)
    return copy


@pytest.fixture
def engine(store: Path) -> Iterator[Engine]:
    eng = create_store_engine(f"sqlite:///{store}")
    yield eng
    eng.dispose()


def embedder(embed_server: EmbedServer, model: str = "bag") -> Embedder:
    cfg = EmbeddingsConfig(
        provider="openai", model=model, base_url=f"{embed_server.url}/v1", batch_size=8
    )
    return Embedder(cfg)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(TemplateEmbedding)).scalar_one()


def test_backfill_embeds_each_template_once(engine: Engine, embed_server: EmbedServer) -> None:
    e = embedder(embed_server)
    with engine.connect() as conn:
        templates = conn.execute(select(func.count()).select_from(Template)).scalar_one()
    assert backfill(engine, e, NOW) == templates == count(engine)
    assert len(embed_server.requests) == -(-templates // 8)  # in batches of 8
    assert backfill(engine, e, NOW) == 0  # nothing stale: no request
    assert len(embed_server.requests) == -(-templates // 8)
    with engine.connect() as conn:
        ids, matrix = current(conn, e.name)
    assert len(ids) == templates and matrix.shape == (templates, 16)


def test_a_changed_template_or_another_model_embeds_again(
    engine: Engine, embed_server: EmbedServer
) -> None:
    backfill(engine, embedder(embed_server), NOW)
    with engine.begin() as conn:  # the miner generalised template 1
        conn.execute(update(Template).where(Template.id == 1).values(template="changed <*>"))
    with engine.connect() as conn:
        assert [tid for tid, _ in stale(conn, "openai/bag")] == [1]
        ids, _ = current(conn, "openai/bag")
        assert 1 not in ids  # a stale vector is never searched
    assert backfill(engine, embedder(embed_server), NOW) == 1
    assert embed_server.requests[-1]["input"] == [embedding_text("changed <*>")]
    before = count(engine)
    assert backfill(engine, embedder(embed_server, "other"), NOW, limit=5) == 5
    assert count(engine) == before + 5  # the first model's vectors are kept


def test_a_failing_server_keeps_the_batches_before_it(
    engine: Engine, embed_server: EmbedServer
) -> None:
    done = backfill(engine, embedder(embed_server), NOW, limit=8)
    assert done == 8
    embed_server.mode = "500"
    with pytest.raises(Exception, match="HTTP 500"):
        backfill(engine, embedder(embed_server), NOW)
    assert count(engine) == 8


def test_fused_search_finds_by_meaning_what_the_words_miss(
    engine: Engine, embed_server: EmbedServer
) -> None:
    e = embedder(embed_server)
    backfill(engine, e, NOW)
    # The bag-of-words server: a query made of the template's own words is closest to it.
    target = "postgresql@<*>-main.service: Failed with result 'oom-kill'."
    vector = e.embed([embedding_text(target)])[0]
    lexical = [h.template for h in search_templates(engine, "zzz", limit=3)]
    fused = [
        h.template for h in search_templates(engine, "zzz", limit=3, semantic=(e.name, vector))
    ]
    assert lexical == []
    assert fused[0] == target
    # Without vectors of that model, the lexical ranking answers alone.
    alone = search_templates(engine, "oom killed", limit=3, semantic=("openai/none", vector))
    assert [h.template for h in alone] == [
        h.template for h in search_templates(engine, "oom killed", limit=3)
    ]


def test_the_cli_embeds_and_searches_with_both_rankings(
    store: Path, embed_server: EmbedServer, tmp_path: Path
) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"embeddings:\n  provider: openai\n  model: bag\n  base_url: {embed_server.url}/v1\n"
    )
    db = f"sqlite:///{store}"
    r = runner.invoke(app, ["embed", "--db", db, "--config", str(cfg)])
    assert r.exit_code == 0, r.output
    assert "template(s) embedded with openai/bag" in r.stdout
    r = runner.invoke(
        app, ["search", "postgres killed", "--json", "--db", db, "--config", str(cfg)]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ranking"] == "lexical+semantic"
    embed_server.mode = "500"
    r = runner.invoke(
        app, ["search", "postgres killed", "--json", "--db", db, "--config", str(cfg)]
    )
    assert r.exit_code == 0, r.output
    assert "semantic ranking off" in r.stderr and "HTTP 500" in r.stderr
    assert json.loads(r.stdout)["ranking"] == "lexical"
    r = runner.invoke(app, ["embed", "--db", db, "--config", str(cfg)])
    assert r.exit_code in (0, 1)  # nothing stale (0), or the server's error named (1)
    assert "Traceback" not in r.output


def test_embed_without_a_configured_server_exits_2(store: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\n")
    r = runner.invoke(app, ["embed", "--db", f"sqlite:///{store}", "--config", str(cfg)])
    assert r.exit_code == 2 and "no embeddings server is configured" in r.output


def test_the_embeddings_key_comes_from_the_environment() -> None:
    s = load_settings(environ={"LOGVIGIL_EMBEDDINGS_API_KEY": "s3cret"})
    assert s.embeddings.api_key is not None
    assert s.embeddings.api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s.embeddings)
