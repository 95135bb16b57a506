"""A local OpenAI-compatible server for the crew's tests: `POST /v1/chat/completions`
answered with canned, protocol-correct completions, every request recorded.

`mode` picks its behaviour: `ok`; `500`, `garbage` and `slow` (a broken server);
`no-schemas` (refuses any `response_format`, like a server without structured output);
`outside` (takes schemas but ignores them, and names a hypothesis that does not exist). Focused
questions (a request with a `response_format`) get each property filled after its
schema; CrewAI's agents get text or a native tool call by role.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crew_support import final_json
from http_support import send_json


class FakeOpenAI:
    """A local OpenAI-compatible server; `mode` picks its behaviour."""

    def __init__(self) -> None:
        self.mode = "ok"
        #: The content of every schema-constrained answer, when set (and its finish reason).
        self.scripted: str | None = None
        self.scripted_finish = "stop"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("tokenize"):  # no tokenizer here: counts are estimated
                    return self._send(404, b'{"detail": "Not Found"}')
                try:
                    req = json.loads(body)
                except ValueError:
                    req = {"raw": body.decode(errors="replace")}
                req["_path"] = self.path
                req["_auth"] = self.headers.get("Authorization")
                outer.requests.append(req)
                if outer.mode == "no-schemas" and "response_format" in req:
                    return self._send(400, b'{"error": {"message": "response_format unknown"}}')
                if outer.mode == "500":
                    return self._send(500, b'{"error": {"message": "boom"}}')
                if outer.mode == "garbage":
                    return self._send(200, b"<html>not json</html>")
                if outer.mode == "slow":
                    outer.release.wait(10)
                return self._send(200, json.dumps(outer.answer(req)).encode())

            def _send(self, code: int, data: bytes) -> None:
                send_json(self, code, data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.scripted is not None and "response_format" in req:
            message = {"role": "assistant", "content": self.scripted}
            return self.completion(req, message, self.scripted_finish)
        if "response_format" in req or self.mode in ("no-schemas", "outside"):
            return self.completion(req, {"role": "assistant", "content": self.focused(req)})
        messages = req.get("messages", [])
        system = str(messages[0].get("content")) if messages else ""
        last = messages[-1] if messages else {}
        message: dict[str, Any] = {"role": "assistant", "content": "postgres failed first (E1)."}
        finish = "stop"
        if "Incident reporter" in system:
            message["content"] = final_json(1)
        elif "timeline analyst" in system and last.get("role") != "tool" and req.get("tools"):
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "timeline", "arguments": "{}"},
                    }
                ],
            }
            finish = "tool_calls"
        return self.completion(req, message, finish)

    def focused(self, req: dict[str, Any]) -> str:
        """A focused answer: each property filled after its schema (the first id of an enum);
        without a schema (a server that has none), fenced JSON the model made up."""
        fmt = req.get("response_format") or {}
        schema = fmt.get("schema") or fmt.get("json_schema", {}).get("schema")
        if schema is None or self.mode == "outside":
            question = str(req["messages"][-1]["content"])
            if "which ranked hypothesis" in question:
                pick = "H9" if self.mode == "outside" else "H1"
                answer = {"hypothesis": pick, "confidence": "high", "why": "postgres died (E1)"}
                return "Here you are:\n```json\n" + json.dumps(answer) + "\n```"
            return "I am not sure."
        out: dict[str, Any] = {}
        for key, prop in schema["properties"].items():
            if "enum" in prop:
                out[key] = prop["enum"][0]
            elif prop.get("type") == "number":
                out[key] = 0.8
            elif prop.get("type") == "array":
                out[key] = ["the kernel killed postgres first (E1)"]
            else:
                out[key] = "postgres on db-01 was killed first (E1)"
        return json.dumps(out)

    def completion(
        self, req: dict[str, Any], message: dict[str, Any], finish: str = "stop"
    ) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": req.get("model", "x"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
