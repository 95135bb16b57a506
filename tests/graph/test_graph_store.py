"""Loading into FalkorDB: atomic, idempotent, persistent, and the fallback to embedded."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from graph import queries
from graph.inventory import Inventory, load_inventory
from graph.store import GraphError, GraphStore, _wait_gone, open_store
from logvigil.core.redact import hide_url_password as redact_url


def test_loading_creates_hosts_services_and_all_edge_types(
    store: GraphStore, homelab: Inventory
) -> None:
    result = store.load(homelab)
    assert result.changed and result.services == len(homelab.services)
    counts = dict(store.query("MATCH ()-[r]->() RETURN type(r), count(r) ORDER BY type(r)"))
    assert counts["DEPENDS_ON"] == 5
    assert counts["CALLS"] == 3
    assert counts["WRITES_TO"] == 1 and counts["STORES_ON"] == 1
    assert counts["RUNS_ON"] == 8 + 2 * len(homelab.hosts)
    host = store.query("MATCH (h:Host {name: 'db-01'}) RETURN h.role, h.memory_gb")
    assert host == [["database", 16]]


def test_loading_the_same_inventory_twice_changes_nothing(
    store: GraphStore, homelab: Inventory
) -> None:
    first = store.load(homelab)
    again = store.load(homelab)
    assert first.changed and not again.changed
    assert store.loaded_fingerprint() == homelab.fingerprint()
    assert store.query("MATCH (s:Service) RETURN count(s)") == [[len(homelab.services)]]
    forced = store.load(homelab, force=True)
    assert forced.changed
    assert store.query("MATCH (s:Service) RETURN count(s)") == [[len(homelab.services)]]


def test_a_reader_sees_the_old_graph_until_the_new_one_is_complete(
    store: GraphStore, homelab: Inventory, write_inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load(homelab)
    smaller = load_inventory(
        write_inventory("services:\n  postgres: {}\n  app: {depends_on: [postgres]}\n")
    )
    seen_during_build: list[list[str]] = []
    real_build = GraphStore._build

    def build_and_peek(self, graph, inv, fingerprint):
        real_build(self, graph, inv, fingerprint)
        seen_during_build.append(queries.blast_radius(store, "postgres").names())

    monkeypatch.setattr(GraphStore, "_build", build_and_peek)
    store.load(smaller)
    assert seen_during_build == [["backup", "gitea", "nextcloud", "nginx"]]
    assert queries.blast_radius(store, "postgres").names() == ["app"]
    assert store.graph_names() == [store.graph_name] or store.backend == "server"
    assert not [g for g in store.graph_names() if ":loading:" in g]


def test_a_failed_load_leaves_the_live_graph_and_no_temporary_graph(
    store: GraphStore, homelab: Inventory, write_inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load(homelab)
    other = load_inventory(write_inventory("services:\n  postgres: {}\n"))

    def half_build(self, graph, inv, fingerprint):
        graph.query("CREATE (:Service {name: 'half'})")
        raise GraphError("disk full")

    monkeypatch.setattr(GraphStore, "_build", half_build)
    with pytest.raises(GraphError, match="disk full"):
        store.load(other)
    assert store.loaded_fingerprint() == homelab.fingerprint()
    assert "nginx" in queries.blast_radius(store, "postgres").names()
    assert not [g for g in store.graph_names() if ":loading:" in g]


def test_the_embedded_graph_survives_a_restart(tmp_path: Path, homelab: Inventory) -> None:
    with GraphStore.embedded(tmp_path) as store:
        store.load(homelab)
    with GraphStore.embedded(tmp_path) as store:
        assert store.loaded_fingerprint() == homelab.fingerprint()
        assert not store.load(homelab).changed
        assert "nginx" in queries.blast_radius(store, "postgres").names()


def test_a_second_owner_of_the_embedded_data_directory_is_refused(tmp_path: Path) -> None:
    with (
        GraphStore.embedded(tmp_path),
        pytest.raises(GraphError, match="in use by another process"),
    ):
        GraphStore.embedded(tmp_path)


def test_a_temporary_store_removes_its_directory_on_close() -> None:
    store = GraphStore.temporary()
    location = Path(store.location)
    assert location.is_dir()
    store.close()
    assert not location.exists()


def test_an_unreachable_server_falls_back_to_the_embedded_graph_and_says_so(
    tmp_path: Path, homelab: Inventory, caplog: pytest.LogCaptureFixture, closed_port: int
) -> None:
    url = f"falkordb://127.0.0.1:{closed_port}"
    with caplog.at_level(logging.WARNING, logger="graph.store"):
        store = open_store(url, tmp_path)
    with store:
        assert store.backend == "embedded"
        assert store.fallback_reason and "cannot reach FalkorDB" in store.fallback_reason
        assert "falling back to the embedded graph" in caplog.text
        store.load(homelab)
        assert "nginx" in queries.blast_radius(store, "postgres").names()


def test_a_reachable_server_is_used(falkordb_url: str, tmp_path: Path) -> None:
    with open_store(falkordb_url, tmp_path) as store:
        assert store.backend == "server" and store.fallback_reason is None


def test_a_direct_server_connection_to_a_closed_port_raises(closed_port: int) -> None:
    with pytest.raises(GraphError, match="cannot reach"):
        GraphStore.server(f"redis://127.0.0.1:{closed_port}", timeout=1)


def test_an_unsupported_url_scheme_is_refused() -> None:
    with pytest.raises(GraphError, match="unsupported graph URL"):
        GraphStore.server("http://127.0.0.1:1")


def test_passwords_are_redacted_from_urls() -> None:
    assert redact_url("redis://user:s3cret@db:6379/0") == "redis://user:***@db:6379/0"
    assert "s3cret" not in redact_url("falkordb://:s3cret@db:6379")
    assert redact_url("falkordb://db:6379") == "falkordb://db:6379"


def test_sigterm_stops_the_embedded_server_instead_of_orphaning_it(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from graph.store import GraphStore, _read_pid\n"
        f"store = GraphStore.embedded({str(tmp_path)!r})\n"
        "print(_read_pid(store._embedded.db.client.pidfile), flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    server_pid = int(proc.stdout.readline())
    assert server_pid > 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert _wait_gone(server_pid, timeout=10)
    assert proc.stdin is not None
    proc.stdin.close()
    proc.stdout.close()
