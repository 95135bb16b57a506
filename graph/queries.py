"""Questions asked of the dependency graph, in Cypher, answered with typed values.

Blast radius and upstream walk the derived IMPACTS / REQUIRES edges with
`algo.BFS`, which visits each service once; the BFS tree it returns gives every
reached service its shortest depth and one shortest path. (A variable-length
`MATCH (d)-[:DEPENDS_ON|CALLS*]->(x)` enumerates every path and does not
finish on a dense graph of a thousand services.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.store import GraphStore
from logvigil.core.yamlfile import suggest

#: `algo.BFS` needs a positive level limit; deeper than any real inventory.
MAX_DEPTH = 1_000_000


class UnknownService(LookupError):
    """The graph has no service of that name. The message carries a "did you mean"."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Reached:
    """A service reached from the queried one.

    `path` runs from the queried service to this one (`["nextcloud", "nginx"]`
    reads "nextcloud <- nginx" for a blast radius, "nextcloud -> postgres" for
    upstream); `via` holds the edge type of each hop.
    """

    service: str
    depth: int
    path: tuple[str, ...]
    via: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "depth": self.depth, "path": list(self.path)}


@dataclass(frozen=True, slots=True)
class Reach:
    """The answer to a blast-radius or upstream question, nearest services first."""

    service: str
    direction: str  # "blast_radius" or "upstream"
    services: tuple[Reached, ...]

    def names(self) -> list[str]:
        return [r.service for r in self.services]

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, self.direction: [r.to_json() for r in self.services]}


@dataclass(frozen=True, slots=True)
class CoHosted:
    """Services sharing `host` with the queried service."""

    host: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServicePath:
    """A directed chain of DEPENDS_ON / CALLS edges: `nodes[i] -via[i]-> nodes[i+1]`."""

    nodes: tuple[str, ...]
    via: tuple[str, ...]

    def __str__(self) -> str:
        out = self.nodes[0]
        for rel, node in zip(self.via, self.nodes[1:], strict=True):
            out += f" -{rel}-> {node}"
        return out


_BFS = """
MATCH (x:Service {{name: $name}})
CALL algo.BFS(x, $depth, '{rel}') YIELD edges
RETURN x.name, [e IN edges | [startNode(e).name, endNode(e).name, e.via]]
"""


def blast_radius(store: GraphStore, service: str, *, max_depth: int = MAX_DEPTH) -> Reach:
    """Every service that transitively depends on or calls `service`.

    Raises UnknownService if the graph has no such service, GraphError on backend failure.
    """
    return _reach(store, service, "IMPACTS", "blast_radius", max_depth)


def upstream(store: GraphStore, service: str, *, max_depth: int = MAX_DEPTH) -> Reach:
    """Every service that `service` transitively depends on or calls.

    Raises UnknownService if the graph has no such service, GraphError on backend failure.
    """
    return _reach(store, service, "REQUIRES", "upstream", max_depth)


def _reach(store: GraphStore, service: str, rel: str, direction: str, max_depth: int) -> Reach:
    rows = store.query(_BFS.format(rel=rel), {"name": service, "depth": max_depth})
    if not rows:
        # algo.BFS yields no row when nothing is reached: tell "alone" from "unknown".
        if not store.query("MATCH (s:Service {name: $n}) RETURN s.name", {"n": service}):
            _raise_unknown(store, service)
        return Reach(service, direction, ())
    # The edges form the BFS tree but come in no useful order: walk them again from the root.
    children: dict[str, list[tuple[str, str]]] = {}
    for parent, child, via in rows[0][1]:
        children.setdefault(parent, []).append((child, via))
    paths: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {service: ((service,), ())}
    frontier = [service]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            nodes, vias = paths[node]
            for child, via in sorted(children.get(node, ())):
                if child not in paths:
                    paths[child] = ((*nodes, child), (*vias, via))
                    nxt.append(child)
        frontier = nxt
    reached = [
        Reached(name, len(vias), nodes, vias)
        for name, (nodes, vias) in paths.items()
        if name != service
    ]
    reached.sort(key=lambda r: (r.depth, r.service))
    return Reach(service, direction, tuple(reached))


def co_hosted(store: GraphStore, service: str) -> list[CoHosted]:
    """Per host of `service`, the other services on it (hosts with none are omitted)."""
    rows = store.query(
        """
        MATCH (s:Service {name: $name})
        OPTIONAL MATCH (s)-[:RUNS_ON]->(h:Host)<-[:RUNS_ON]-(o:Service)
        WHERE o <> s
        RETURN s.name, h.name, o.name
        """,
        {"name": service},
    )
    if not rows:
        _raise_unknown(store, service)
    by_host: dict[str, set[str]] = {}
    for _, host, other in rows:
        if host is not None and other is not None:
            by_host.setdefault(host, set()).add(other)
    return [CoHosted(h, tuple(sorted(s))) for h, s in sorted(by_host.items())]


def path_between(store: GraphStore, a: str, b: str) -> ServicePath | None:
    """The shortest DEPENDS_ON / CALLS chain from `a` to `b`, else from `b` to `a`.

    Returns None when neither reaches the other (FalkorDB has no undirected
    shortestPath). Raises UnknownService for an undeclared name.
    """
    for name in (a, b):
        if not store.query("MATCH (s:Service {name: $n}) RETURN s.name", {"n": name}):
            _raise_unknown(store, name)
    if a == b:
        return ServicePath((a,), ())
    for src, dst in ((a, b), (b, a)):
        rows = store.query(
            """
            MATCH (a:Service {name: $a}), (b:Service {name: $b})
            WITH shortestPath((a)-[:DEPENDS_ON|CALLS*]->(b)) AS p
            WHERE p IS NOT NULL
            RETURN [n IN nodes(p) | n.name], [r IN relationships(p) | type(r)]
            """,
            {"a": src, "b": dst},
        )
        if rows and rows[0][0]:
            return ServicePath(tuple(rows[0][0]), tuple(rows[0][1]))
    return None


def service_names(store: GraphStore) -> list[str]:
    return sorted(r[0] for r in store.query("MATCH (s:Service) RETURN s.name"))


def _raise_unknown(store: GraphStore, name: str) -> None:
    hint = suggest(name, set(service_names(store)))
    raise UnknownService(name, f"unknown service {name!r}{hint}")
