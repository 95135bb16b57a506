"""The embedding client against local servers speaking Ollama's `/api/embed` and the
OpenAI-compatible `/v1/embeddings` (every request recorded), and the vector math."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from embed_server import DIM, EmbedServer, bag_of_words
from llama_support import llama_cpp_server
from pydantic import ValidationError

from logvigil.search.embed import (
    Embedder,
    EmbeddingsConfig,
    EmbedError,
    combine,
    cosine_top,
    embedding_text,
    normalised,
)


def openai(embed_server: EmbedServer, **kw: Any) -> Embedder:
    cfg = {"provider": "openai", "model": "e5", "base_url": f"{embed_server.url}/v1"} | kw
    return Embedder(EmbeddingsConfig(**cfg))


def test_openai_compatible_batches_in_order_and_normalised(embed_server: EmbedServer) -> None:
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    m = openai(embed_server, batch_size=2).embed(texts)
    assert m.shape == (5, DIM) and m.dtype == np.float32
    assert np.allclose(np.linalg.norm(m, axis=1), 1)
    # Answered in reverse order: put back by index.
    assert np.allclose(m, normalised([bag_of_words(t) for t in texts]))
    assert [len(r["input"]) for r in embed_server.requests] == [2, 2, 1]
    assert {r["_path"] for r in embed_server.requests} == {"/v1/embeddings"}
    assert embed_server.requests[0]["_auth"] == "Bearer anything"
    assert embed_server.requests[0]["model"] == "e5"


def test_ollama_speaks_api_embed(embed_server: EmbedServer) -> None:
    e = Embedder(
        EmbeddingsConfig(provider="ollama", model="nomic", base_url=f"{embed_server.url}/v1")
    )
    assert e.name == "ollama/nomic"
    assert e.embed(["x", "yy"]).shape == (2, DIM)
    assert embed_server.requests[0]["_path"] == "/api/embed"


def test_token_vectors_are_mean_pooled(embed_server: EmbedServer) -> None:
    embed_server.mode = "tokens"
    m = openai(embed_server).embed(["a b"])
    assert np.allclose(m[0], normalised([1.0, 1.0] + [0.0] * (DIM - 2))[0])


@pytest.mark.parametrize(
    ("mode", "kind"),
    [("500", "http"), ("garbage", "protocol"), ("short", "shape"), ("nan", "shape")],
)
def test_a_broken_server_is_a_clear_error(embed_server: EmbedServer, mode: str, kind: str) -> None:
    embed_server.mode = mode
    with pytest.raises(EmbedError) as exc:
        openai(embed_server).embed(["a", "b"])
    assert exc.value.kind == kind
    assert embed_server.url.split("//")[1] in str(exc.value)


def test_nothing_listening_is_a_connection_error() -> None:
    cfg = EmbeddingsConfig(provider="openai", model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(EmbedError) as exc:
        Embedder(cfg).embed(["a"])
    assert exc.value.kind == "connection"


def test_bad_config_is_named() -> None:
    with pytest.raises(ValueError, match=r"embeddings\.model is required"):
        Embedder(EmbeddingsConfig(provider="ollama"))
    with pytest.raises(ValueError, match="base_url is required"):
        Embedder(EmbeddingsConfig(provider="openai", model="m"))
    with pytest.raises(ValidationError, match="batch_size"):
        EmbeddingsConfig(batch_size=0)


def test_cosine_top_and_fusion() -> None:
    m = normalised([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]])
    q = normalised([1, 0])[0]
    assert [i for i, _ in cosine_top(q, m, 2)] == [0, 1]
    assert cosine_top(q, m[:0], 3) == []
    assert len(cosine_top(q, m, 10)) == 4


def test_fusion_keeps_the_gaps_between_scores() -> None:
    # Lexical: 1 far ahead of 2 and 3; the model finds 4 nearest, then 1, far behind.
    lexical = [(1, 9.0), (2, 2.0), (3, 1.0)]
    semantic = [(4, 0.80), (5, 0.79), (1, 0.40), (2, 0.39)]
    fused = combine(lexical, semantic)
    # 1 is first lexically by a wide margin and the model holds it too: it stays first
    # (reciprocal rank fusion, which keeps only ranks, would put 4 ahead of 2 and 1 level).
    assert [i for i, _ in fused][:3] == [1, 4, 5]
    scores = dict(fused)
    assert scores[1] == pytest.approx(0.5 * 1.0 + 0.5 * (0.40 - 0.39) / (0.80 - 0.39))
    assert scores[2] == pytest.approx(0.5 * (2.0 - 1.0) / (9.0 - 1.0))  # the model's last: 0
    assert scores[4] == pytest.approx(0.5 * 1.0)
    assert scores[3] == pytest.approx(0.0)  # last lexically, absent from the other
    # The weight moves the balance: all lexical keeps its order, none keeps the model's.
    assert [i for i, _ in combine(lexical, semantic, 1.0)][:3] == [1, 2, 3]
    assert [i for i, _ in combine(lexical, semantic, 0.0)][:2] == [4, 5]
    # One hit, or equal scores, count as the best; empty rankings give nothing.
    assert combine([(7, 3.0)], []) == [(7, 0.5)]
    assert [i for i, _ in combine([(2, 1.0), (1, 1.0)], [])] == [1, 2]  # ties: lower id
    assert combine([], []) == []


def test_the_embedded_text_has_no_placeholders() -> None:
    assert embedding_text("Out of memory: Killed process <*>  (<*>)") == (
        "Out of memory: Killed process … (…)"
    )


@pytest.fixture(scope="module")
def llama_embeddings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's server in embedding mode with the 270M Gemma model (a generative model:
    it answers one vector per token, which the client mean-pools)."""
    with llama_cpp_server(
        tmp_path_factory.mktemp("embed"),
        *("--embedding", "true", "--n_ctx", "2048"),
        probe={"embeddings": {"model": "probe", "input": ["hi"]}},
    ) as url:
        yield url


@pytest.mark.slow
def test_the_real_llama_cpp_server_embeds_templates(llama_embeddings: str) -> None:
    e = Embedder(EmbeddingsConfig(provider="openai", model="gemma", base_url=llama_embeddings))
    texts = [
        embedding_text("Out of memory: Killed process <*> (postgres)"),
        embedding_text("write /srv/backup/<*>: no space left on device"),
        embedding_text("Failed password for invalid user <*> from <*> port <*> ssh2"),
    ]
    m = e.embed(texts)
    assert m.shape[0] == 3 and m.shape[1] >= 64
    assert np.allclose(np.linalg.norm(m, axis=1), 1, atol=1e-4)
    assert np.allclose(e.embed(texts[:1]), m[:1], atol=1e-4)  # the same text, the same vector
    ranked = cosine_top(m[0], m, 3)
    assert ranked[0][0] == 0 and ranked[0][1] == pytest.approx(1, abs=1e-4)
