"""Embeddings of templates for semantic search: the `embeddings:` section, a client for
the servers people run, and the vector math (pure, numpy).

Providers (`embeddings.provider`):

- `ollama`: `POST {base_url}/api/embed {"model", "input": [texts]}` ->
  `{"embeddings": [[...], ...]}` (default URL `http://127.0.0.1:11434`);
- `openai`: any OpenAI-compatible server, `POST {base_url}/embeddings {"model",
  "input": [texts]}` -> `{"data": [{"index", "embedding"}, ...]}`: llama.cpp's
  `llama-server --embeddings`, `python -m llama_cpp.server --embedding true`,
  vLLM, a hosted API.

A template is embedded once, as `embedding_text` renders it (placeholders become
`…`: an embedding model reads words, not our wildcard), and stored with the model's
name, the vector's dimension and `TEXT_VERSION`, so a new model or a new rendering
embeds again. Vectors are L2-normalised here, so cosine similarity is a dot product; a server
that answers one vector per token is mean-pooled here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, SecretStr

from investigate.chat import ChatError, post_json
from investigate.llm import DEFAULT_OLLAMA_URL, PLACEHOLDER_API_KEY
from logvigil.core.configbase import Strict

if TYPE_CHECKING:
    import numpy as np

#: Bumped when `embedding_text` changes: every template is embedded again.
TEXT_VERSION = 1


class EmbeddingsConfig(Strict):
    """The `embeddings:` section: where semantic search gets its vectors (none by default)."""

    provider: Literal["none", "ollama", "openai"] = "none"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    #: Templates per request.
    batch_size: Annotated[int, Field(ge=1, le=1024)] = 32
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0


class EmbedError(RuntimeError):
    """The server gave no usable vectors; `kind` as `investigate.chat.ChatError`'s, or
    `shape` for vectors of the wrong number or size."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def embedding_text(template: str) -> str:
    """What is embedded for a template: its text, placeholders as `…`."""
    return " ".join(template.replace("<*>", "…").split())


def normalised(vectors: Any) -> np.ndarray:
    """`vectors` as float32 rows of length 1 (a zero row stays zero)."""
    import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

    m = np.asarray(vectors, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


class Embedder:
    """Embeds texts, in batches, with one configured server."""

    def __init__(self, config: EmbeddingsConfig) -> None:
        if config.provider == "none" or not config.model:
            raise ValueError("embeddings.model is required when embeddings.provider is set")
        self.config = config
        self.name = f"{config.provider}/{config.model}"
        if config.provider == "ollama":
            base = (config.base_url or DEFAULT_OLLAMA_URL).rstrip("/").removesuffix("/v1")
            self._url, self._headers = f"{base}/api/embed", None
        else:
            if not config.base_url:
                raise ValueError("embeddings.base_url is required when the provider is 'openai'")
            key = config.api_key.get_secret_value() if config.api_key else PLACEHOLDER_API_KEY
            self._url = config.base_url.rstrip("/") + "/embeddings"
            self._headers = {"Authorization": f"Bearer {key}"}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised row per text, in order. Raises `EmbedError`."""
        import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

        rows: list[np.ndarray] = []
        size = self.config.batch_size
        for start in range(0, len(texts), size):
            rows.append(self._batch(list(texts[start : start + size])))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        dims = {r.shape[1] for r in rows}
        if len(dims) != 1:
            raise EmbedError("shape", f"{self._url}: vectors of different sizes {sorted(dims)}")
        return np.vstack(rows)

    def _batch(self, texts: list[str]) -> np.ndarray:
        import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

        body = {"model": self.config.model, "input": texts}
        try:
            answer = post_json(self._url, body, self.config.timeout_seconds, self._headers)
        except ChatError as e:
            raise EmbedError(e.kind, str(e)) from None
        try:
            if self.config.provider == "ollama":
                vectors = answer["embeddings"]
            else:
                data = sorted(answer["data"], key=lambda d: d["index"])
                vectors = [d["embedding"] for d in data]
            m = np.asarray([_pooled(v) for v in vectors], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as e:
            raise EmbedError("protocol", f"{self._url}: no vectors in the answer ({e})") from None
        if m.ndim != 2 or m.shape[0] != len(texts) or m.shape[1] == 0:
            raise EmbedError("shape", f"{self._url}: {m.shape} vectors for {len(texts)} texts")
        if not np.isfinite(m).all():
            raise EmbedError("shape", f"{self._url}: vectors with NaN or infinite values")
        return normalised(m)


def _pooled(vector: Any) -> Any:
    """One vector: a list of token vectors (llama.cpp serving a model without pooling,
    e.g. a generative one, answers one vector per token) is mean-pooled, as a pooling
    model would."""
    import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

    if isinstance(vector, list) and vector and isinstance(vector[0], list):
        return np.asarray(vector, dtype=np.float32).mean(axis=0)
    return vector


def cosine_top(query: np.ndarray, matrix: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The `k` rows of `matrix` (normalised) most similar to `query` (normalised), best
    first: (row, cosine)."""
    import numpy as np  # deferred: heavy (~15 MB, 80 ms); a search needs it, commands do not

    if matrix.size == 0 or k <= 0:
        return []
    scores = matrix @ query.reshape(-1)
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best]


def _min_max(ranking: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Each id's score rescaled to [0, 1] over `ranking`: its best 1, its last 0 (all 1
    when every score is the same)."""
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    hi, lo = max(scores), min(scores)
    span = hi - lo
    return {item: (score - lo) / span if span > 0 else 1.0 for item, score in ranking}


def combine(
    lexical: Sequence[tuple[int, float]],
    semantic: Sequence[tuple[int, float]],
    lexical_weight: float = 0.5,
) -> list[tuple[int, float]]:
    """Two rankings of ids with their scores (a BM25 score, a cosine), fused by a convex
    combination of their min-max normalised scores: `lexical_weight` times the one plus
    the rest times the other; an id absent from a ranking scores 0 there. Ties go to the
    lower id. Unlike reciprocal rank fusion, which keeps only ranks, a lexical hit far
    ahead of the next stays ahead of a template the model merely finds near (Bruch et
    al., "An Analysis of Fusion Functions for Hybrid Retrieval", 2023)."""
    scores = {item: lexical_weight * s for item, s in _min_max(lexical).items()}
    for item, s in _min_max(semantic).items():
        scores[item] = scores.get(item, 0.0) + (1.0 - lexical_weight) * s
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
