"""Where the dependency graph lives: an embedded FalkorDB or a FalkorDB server.

`GraphStore` hides which one. The embedded default is `falkordblite`: it starts a
private `redis-server` with the FalkorDB module on a unix socket, its data in
the data directory (append-only file on, see DEPENDENCIES.md). A
`falkordb://host:port` or `redis://host:port` URL points at a server instead;
`open_store` falls back to the embedded one when that server does not answer,
and says so (a logged warning and `GraphStore.fallback_reason`).

Atomic loading. `load` builds the whole graph under a temporary key
(`<graph>:loading:<random>`) and then `RENAME`s it over the live key. RENAME is
one Redis command: it replaces the destination key in a single step, so a
concurrent reader queries either the old graph or the new one, never a half
built one; a failed build leaves the live graph untouched and the temporary key
is deleted. Alternatives were worse: `GRAPH.COPY` refuses an existing
destination (so it needs a DELETE first, which opens a window with no graph);
MULTI/EXEC would hold the server for the whole build; versioned names with a
pointer key cost every reader a second round trip and need garbage collection.

Besides the declared edges the loader writes two derived ones per
DEPENDS_ON/CALLS edge, `(b)-[:IMPACTS {via}]->(a)` and `(a)-[:REQUIRES {via}]->(b)`,
because FalkorDB's `algo.BFS` (the only traversal that stays linear on a
dense graph; a variable-length MATCH enumerates every path) follows a single
relationship type in its outgoing direction.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from graph.inventory import IMPACT_EDGES, Inventory
from logvigil.core.redact import hide_url_password

log = logging.getLogger(__name__)

DEFAULT_GRAPH = "logvigil"
#: Bumped when the shape of the loaded graph changes; a graph of another version is rebuilt.
GRAPH_SCHEMA_VERSION = 1
#: How long to wait for a FalkorDB server before falling back to the embedded one.
CONNECT_TIMEOUT_S = 2.0
#: How long a clean embedded shutdown may take before the server is killed.
SHUTDOWN_TIMEOUT_S = 10.0
EMBEDDED_DB_FILE = "graph.rdb"
LOCK_FILE = "graph.lock"


class GraphError(Exception):
    """The graph backend failed (cannot start, cannot be reached, query refused)."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What `GraphStore.load` did. `changed` is False when the same inventory was already live."""

    graph: str
    fingerprint: str
    hosts: int
    services: int
    edges: int
    changed: bool
    seconds: float


class GraphStore:
    """One FalkorDB graph (embedded or on a server) holding the inventory.

    Use `open_store`, `GraphStore.embedded`, `GraphStore.server` or
    `GraphStore.temporary`; close with `close()` or a `with` block.
    """

    def __init__(
        self,
        db: Any,
        *,
        backend: Literal["embedded", "server"],
        location: str,
        graph_name: str = DEFAULT_GRAPH,
        fallback_reason: str | None = None,
        embedded: _EmbeddedServer | None = None,
    ) -> None:
        self._db = db
        self.backend = backend
        self.location = location
        self.graph_name = graph_name
        self.fallback_reason = fallback_reason
        self._embedded = embedded
        self._closed = False

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def embedded(
        cls,
        data_dir: Path | str,
        *,
        graph_name: str = DEFAULT_GRAPH,
        fallback_reason: str | None = None,
    ) -> GraphStore:
        """Start (or resume) the embedded FalkorDB whose data lives in `data_dir`.

        Raises GraphError when another process owns that directory or the server
        does not start.
        """
        server = _EmbeddedServer.start(Path(data_dir), persistent=True)
        return cls(
            server.db,
            backend="embedded",
            location=str(data_dir),
            graph_name=graph_name,
            fallback_reason=fallback_reason,
            embedded=server,
        )

    @classmethod
    def temporary(cls, *, graph_name: str = DEFAULT_GRAPH) -> GraphStore:
        """A throwaway embedded FalkorDB in a fresh temporary directory, removed on close."""
        data_dir = Path(tempfile.mkdtemp(prefix="logvigil-graph-"))
        server = _EmbeddedServer.start(data_dir, persistent=False)
        return cls(
            server.db,
            backend="embedded",
            location=str(data_dir),
            graph_name=graph_name,
            embedded=server,
        )

    @classmethod
    def server(
        cls, url: str, *, graph_name: str = DEFAULT_GRAPH, timeout: float = CONNECT_TIMEOUT_S
    ) -> GraphStore:
        """Connect to a FalkorDB server at `url` (`falkordb://`, `redis://`, `rediss://`).

        Raises GraphError when it does not answer a PING within `timeout` seconds
        or does not have the FalkorDB module loaded.
        """
        import falkordb

        redis_url = _redis_url(url)
        shown = hide_url_password(url)
        try:
            db = falkordb.FalkorDB.from_url(
                redis_url, socket_connect_timeout=timeout, socket_timeout=30
            )
            db.connection.ping()
            db.connection.execute_command("GRAPH.LIST")
        except _redis().ResponseError as exc:
            raise GraphError(f"{shown} is not a FalkorDB server: {exc}") from None
        except (_redis().RedisError, OSError, ValueError) as exc:
            raise GraphError(f"cannot reach FalkorDB at {shown}: {exc}") from None
        return cls(db, backend="server", location=shown, graph_name=graph_name)

    # -- reading -------------------------------------------------------------------------

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """Run a read-only query on the live graph; returns rows of plain values.

        Raises GraphError when the backend fails or refuses the query.
        """
        graph = self._db.select_graph(self.graph_name)
        try:
            return graph.ro_query(cypher, params).result_set
        except _redis().RedisError as exc:
            raise GraphError(f"graph query failed: {exc}") from exc

    def loaded_fingerprint(self) -> str | None:
        """The fingerprint of the inventory in the live graph, or None if none is loaded."""
        if not self._exists(self.graph_name):
            return None
        rows = self.query(
            "MATCH (m:Inventory) RETURN m.fingerprint, m.schema_version LIMIT 1",
        )
        if not rows or rows[0][1] != GRAPH_SCHEMA_VERSION:
            return None
        return rows[0][0]

    def graph_names(self) -> list[str]:
        return list(self._db.list_graphs() or [])

    # -- writing -------------------------------------------------------------------------

    def load(self, inventory: Inventory, *, force: bool = False) -> LoadResult:
        """Replace the live graph with `inventory`, atomically.

        Idempotent: when the live graph already holds the same inventory (same
        fingerprint and schema version) nothing is written unless `force`.
        Raises GraphError if the backend fails; the live graph is then unchanged.
        """
        started = time.perf_counter()
        fingerprint = inventory.fingerprint()
        edges = inventory.edges_all()
        counts = dict(hosts=len(inventory.hosts), services=len(inventory.services))
        if not force and self.loaded_fingerprint() == fingerprint:
            return LoadResult(
                self.graph_name,
                fingerprint,
                edges=len(edges),
                changed=False,
                seconds=time.perf_counter() - started,
                **counts,
            )
        self._delete_stale_temporaries()
        tmp = f"{self.graph_name}:loading:{uuid.uuid4().hex[:12]}"
        try:
            self._build(self._db.select_graph(tmp), inventory, fingerprint)
            self._command("RENAME", tmp, self.graph_name)
        except BaseException:
            with contextlib.suppress(_redis().RedisError):
                self._command("DEL", tmp)
            raise
        return LoadResult(
            self.graph_name,
            fingerprint,
            edges=len(edges),
            changed=True,
            seconds=time.perf_counter() - started,
            **counts,
        )

    def _build(self, graph: Any, inv: Inventory, fingerprint: str) -> None:
        def run(cypher: str, params: dict[str, Any] | None = None) -> None:
            try:
                graph.query(cypher, params)
            except _redis().RedisError as exc:
                raise GraphError(f"loading the graph failed: {exc}") from exc

        run("CREATE INDEX FOR (h:Host) ON (h.name)")
        run("CREATE INDEX FOR (s:Service) ON (s.name)")
        hosts = [{"name": name, "attrs": inv.host_attributes(name)} for name in inv.hosts]
        if hosts:
            run(
                "UNWIND $rows AS r CREATE (h:Host {name: r.name}) SET h += r.attrs", {"rows": hosts}
            )
        services = []
        for name, spec in inv.services.items():
            match = spec.effective_match(name)
            services.append(
                {
                    "name": name,
                    "type": spec.type,
                    "quiet": spec.quiet,
                    "hosts": inv.hosts_of(name),
                    "units": match.units,
                    "identifiers": match.identifiers,
                    "containers": match.containers,
                }
            )
        if services:
            run(
                "UNWIND $rows AS r CREATE (:Service {name: r.name, type: r.type, quiet: r.quiet, "
                "hosts: r.hosts, units: r.units, identifiers: r.identifiers, "
                "containers: r.containers})",
                {"rows": services},
            )
        runs_on = [{"s": name, "h": h} for name in inv.services for h in inv.hosts_of(name)]
        if runs_on:
            run(
                "UNWIND $rows AS r MATCH (s:Service {name: r.s}), (h:Host {name: r.h}) "
                "CREATE (s)-[:RUNS_ON]->(h)",
                {"rows": runs_on},
            )
        groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
        for e in inv.edges_all():
            key = (
                e.type,
                "Host" if e.source_is_host else "Service",
                "Host" if e.target_is_host else "Service",
            )
            groups.setdefault(key, []).append({"a": e.source, "b": e.target})
        for (etype, la, lb), rows in groups.items():
            # etype and labels are validated identifiers (EDGE_TYPE_PATTERN), safe to inline.
            create = f"CREATE (a)-[:{etype}]->(b)"
            if etype in IMPACT_EDGES:
                create += (
                    f", (b)-[:IMPACTS {{via: '{etype}'}}]->(a)"
                    f", (a)-[:REQUIRES {{via: '{etype}'}}]->(b)"
                )
            run(
                f"UNWIND $rows AS r MATCH (a:{la} {{name: r.a}}), (b:{lb} {{name: r.b}}) {create}",
                {"rows": rows},
            )
        run(
            "CREATE (:Inventory {fingerprint: $fp, schema_version: $v, file: $file})",
            {"fp": fingerprint, "v": GRAPH_SCHEMA_VERSION, "file": inv.file},
        )

    def _delete_stale_temporaries(self) -> None:
        """Drop temporary graphs left by a loader that died mid-build."""
        prefix = f"{self.graph_name}:loading:"
        for name in self.graph_names():
            if name.startswith(prefix):
                with contextlib.suppress(_redis().RedisError):
                    self._command("DEL", name)

    def drop(self) -> None:
        """Delete the live graph (tests, `--force` rebuilds)."""
        self._command("DEL", self.graph_name)

    def _exists(self, key: str) -> bool:
        return bool(self._command("EXISTS", key))

    def _command(self, *args: Any) -> Any:
        try:
            return self._db.connection.execute_command(*args)
        except _redis().RedisError as exc:
            raise GraphError(f"graph backend failed: {exc}") from exc

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Disconnect; stop the embedded server (saving its data unless temporary)."""
        if self._closed:
            return
        self._closed = True
        if self._embedded is not None:
            self._embedded.stop()
        else:
            with contextlib.suppress(Exception):
                self._db.connection.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        text = f"{self.backend} FalkorDB at {self.location}, graph {self.graph_name!r}"
        if self.fallback_reason:
            text += f" (fallback: {self.fallback_reason})"
        return text


def open_store(
    url: str | None, data_dir: Path | str, *, graph_name: str = DEFAULT_GRAPH
) -> GraphStore:
    """The configured graph: the server at `url`, else the embedded one in `data_dir`.

    When `url` is set but the server is unreachable, logs a warning and returns
    the embedded store with `fallback_reason` set; the caller loads the same
    inventory into it. Raises GraphError only if the embedded one fails too.
    """
    if url:
        try:
            return GraphStore.server(url, graph_name=graph_name)
        except GraphError as exc:
            reason = str(exc)
            log.warning(
                "FalkorDB server unreachable (%s); falling back to the embedded graph in %s",
                reason,
                data_dir,
            )
            return GraphStore.embedded(data_dir, graph_name=graph_name, fallback_reason=reason)
    return GraphStore.embedded(data_dir, graph_name=graph_name)


def _redis() -> ModuleType:
    """The redis client library (FalkorDB speaks its protocol), imported on first use."""
    import redis  # deferred: heavy (~0.15 s), and only the commands that open a graph need it

    return redis


def _redis_url(url: str) -> str:
    schemes = {"falkordb": "redis", "falkor": "redis", "falkordbs": "rediss", "falkors": "rediss"}
    parts = urlsplit(url)
    scheme = schemes.get(parts.scheme, parts.scheme)
    if scheme not in ("redis", "rediss"):
        raise GraphError(
            f"unsupported graph URL {hide_url_password(url)!r}: use falkordb://host:port or "
            "redis://host:port"
        )
    return urlunsplit(parts._replace(scheme=scheme))


# -- the embedded server -----------------------------------------------------------------


class _EmbeddedServer:
    """A falkordblite server owned by this process: file lock, clean and fast stop.

    falkordblite's own `close()` waits seconds (client retries with back-off on
    the closed socket, then polls for a process that is already a zombie), so
    we stop the server ourselves: SHUTDOWN (SAVE or NOSAVE), wait until the
    process is gone or a zombie, and tell redislite there is nothing left to do.
    """

    def __init__(self, db: Any, data_dir: Path, lock_fd: int, persistent: bool) -> None:
        self.db = db
        self.data_dir = data_dir
        self._lock_fd = lock_fd
        self._persistent = persistent
        self._stopped = False
        self._mutex = threading.Lock()

    @classmethod
    def start(cls, data_dir: Path, *, persistent: bool) -> _EmbeddedServer:
        from redis.backoff import NoBackoff
        from redis.retry import Retry
        from redislite.falkordb_client import FalkorDB

        data_dir.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise GraphError(
                f"the embedded graph in {data_dir} is in use by another process"
            ) from None
        try:
            # The same serverconfig on every open: without it an empty graph is
            # loaded and then saved over the data (DEPENDENCIES.md).
            db = FalkorDB(
                str(data_dir / EMBEDDED_DB_FILE),
                serverconfig={"appendonly": "yes"},
                retry=Retry(NoBackoff(), 0),
            )
        except Exception as exc:
            os.close(lock_fd)
            raise GraphError(f"cannot start the embedded FalkorDB in {data_dir}: {exc}") from exc
        server = cls(db, data_dir, lock_fd, persistent)
        atexit.register(server.stop)
        _install_sigterm_handler()
        return server

    def stop(self) -> None:
        with self._mutex:
            if self._stopped:
                return
            self._stopped = True
        client = self.db.client
        pid = _read_pid(client.pidfile)
        try:
            client.execute_command("SHUTDOWN", "SAVE" if self._persistent else "NOSAVE")
        except _redis().ConnectionError:
            pass  # expected: the server closes the connection as it exits
        except _redis().RedisError as exc:
            log.warning("embedded FalkorDB refused SHUTDOWN (%s); killing it", exc)
            if pid:
                _kill(pid)
        if pid and not _wait_gone(pid, SHUTDOWN_TIMEOUT_S):
            log.warning("embedded FalkorDB (pid %d) did not exit; killing it", pid)
            _kill(pid)
        with contextlib.suppress(Exception):
            client.connection_pool.disconnect()
        redis_dir = client.redis_dir
        settings = getattr(client, "settingregistryfile", None)
        # Leave nothing for redislite's own atexit/__del__ clean-up to do.
        client.pidfile = None
        client.redis_dir = None
        if redis_dir:
            shutil.rmtree(redis_dir, ignore_errors=True)
        if settings:
            with contextlib.suppress(OSError):
                os.remove(settings)
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
        if not self._persistent:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)


def _read_pid(pidfile: str | None) -> int:
    try:
        with open(pidfile or "") as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _wait_gone(pid: int, timeout: float) -> bool:
    """True once `pid` has exited (a zombie counts: its parent is init, not us)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
            state = "R"
        if state in ("Z", "X"):
            return True
        time.sleep(0.005)
    return False


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


_sigterm_installed = False


def _install_sigterm_handler() -> None:
    """Make SIGTERM exit through atexit so the embedded server is stopped, not orphaned.

    Only when SIGTERM still has Python's default disposition and we are on the
    main thread: a daemon that installs its own handler keeps it.
    """
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    _sigterm_installed = True
