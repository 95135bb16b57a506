"""A local embedding server of our own: Ollama's `POST /api/embed` and the
OpenAI-compatible `POST /v1/embeddings`, every request recorded. Each text's vector is
made from its words (a bag of hashed words), so texts that share words are close;
`mode` breaks it (`500`, `garbage`, `short`, `nan`, `tokens`: one vector per token)."""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from http_support import send_json

DIM = 16


def bag_of_words(text: str) -> list[float]:
    v = [0.0] * DIM
    for w in text.lower().split():
        v[zlib.crc32(w.encode()) % DIM] += 1.0
    v[0] += 0.01  # never all zeros
    return v


class EmbedServer:
    """Answers each text with a vector made from its length; `mode` breaks it."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                req["_path"], req["_auth"] = self.path, self.headers.get("Authorization")
                outer.requests.append(req)
                code, body = outer.answer(req)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                send_json(self, code, data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, req: dict[str, Any]) -> tuple[int, Any]:
        texts = req["input"]
        vectors: list[Any] = [bag_of_words(t) for t in texts]
        if self.mode == "500":
            return 500, {"error": "model not loaded"}
        if self.mode == "garbage":
            return 200, b"<html>"
        if self.mode == "short":
            vectors = vectors[:-1]
        if self.mode == "nan":
            vectors[0][0] = float("nan")
        if self.mode == "tokens":  # one vector per token, as llama.cpp without pooling
            vectors = [[[2.0] + [0.0] * (DIM - 1), [0.0, 2.0] + [0.0] * (DIM - 2)] for _ in texts]
        if req["_path"] == "/api/embed":
            return 200, {"model": req["model"], "embeddings": vectors}
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return 200, {"object": "list", "data": list(reversed(data)), "model": req["model"]}


@pytest.fixture
def embed_server() -> Iterator[EmbedServer]:
    """An `EmbedServer` for one test."""
    s = EmbedServer()
    yield s
    s.server.shutdown()
    s.server.server_close()
