"""`logvigil run` with `web.listen` set serves the pages beside the daemon, over real HTTP
on loopback, and stops them with it."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from daemon_support import INVENTORY, start_daemon, stop, wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None


@pytest.mark.slow
def test_the_daemon_serves_the_pages_when_web_listen_is_set(tmp_path: Path) -> None:
    port = _free_port()
    cfg = tmp_path / "logvigil.yaml"
    log = tmp_path / "app.log"
    log.write_text("order 1 accepted\n")
    cfg.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"sources:\n  - type: file\n    path: {log}\n    format: raw\n"
        f"graph:\n  inventory: {INVENTORY}\n"
        f"web:\n  listen: 127.0.0.1:{port}\n"
    )
    daemon_log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log=daemon_log)
    try:
        url = f"http://127.0.0.1:{port}"
        status, page = wait_for(
            lambda: _get(f"{url}/status"), timeout=90, what="the pages", proc=proc, log=daemon_log
        )
        assert status == 200 and "<h1>Status</h1>" in page
        assert _get(f"{url}/")[0] == 200
    finally:
        assert stop(proc) == 0
    assert _get(f"{url}/status") is None  # stopped with the daemon


def test_the_daemon_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\nweb:\n  listen: 0.0.0.0:8765\n")
    daemon_log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log=daemon_log)
    assert proc.wait(60) == 2
    text = daemon_log.read_text()
    assert "web.listen" in text and "not a loopback address" in text and "Traceback" not in text
