"""What grouping and root ranking ask of the dependency graph, behind one protocol.

`GraphTopology` answers from FalkorDB (the graph the inventory was loaded
into) and caches every answer per inventory fingerprint: the graph only
changes when the inventory does, and a tick asks the same few questions many
times. `InventoryTopology` answers the same questions from the inventory in
memory; it is what a test or a backtest without a graph uses, and a test
proves the two agree.

"Connected" means a directed DEPENDS_ON / CALLS path from one service to the
other, in either direction, of at most `max_depth` hops. Two services that
merely share a dependency (nextcloud and gitea both need postgres) are not
connected through it: every service of a homelab shares dns, and grouping
through shared dependencies would fold every unrelated failure into one
incident. Services missing from the inventory are connected to nothing; they
still group with others through a shared host.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from graph import queries
from graph.inventory import Inventory
from graph.store import GraphStore


class Topology(Protocol):
    """The graph questions of the incident layer. Unknown names give empty answers."""

    def connected(self, a: str, b: str, max_depth: int) -> bool:
        """True when both are declared and are the same service or a directed dependency
        path links them, either way. An undeclared name is connected to nothing, not even
        itself: `cron` on two hosts is two unrelated processes."""
        ...

    def hosts_of(self, service: str) -> set[str]:
        """Hosts the inventory places `service` on."""
        ...

    def services_on(self, host: str) -> set[str]:
        """Services the inventory places on `host`."""
        ...

    def upstream(self, service: str) -> list[str]:
        """What `service` transitively needs, nearest first."""
        ...

    def blast_radius(self, service: str) -> list[str]:
        """What transitively needs `service`, nearest first."""
        ...

    def neighbourhood(self, service: str) -> dict[str, Any]:
        """JSON-able surroundings of `service` for the context bundle."""
        ...


class _Cached:
    """Shared logic: answers derived from `_reach`, cached per inventory fingerprint."""

    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self._fingerprint = inventory.fingerprint()
        self._cache: dict[tuple[Any, ...], Any] = {}

    @property
    def inventory(self) -> Inventory:
        return self._inventory

    def use(self, inventory: Inventory) -> None:
        """Answer from `inventory` from now on; the cache is kept if nothing changed."""
        fingerprint = inventory.fingerprint()
        if fingerprint != self._fingerprint:
            self._cache.clear()
            self._fingerprint = fingerprint
        self._inventory = inventory

    def _reach(self, service: str, direction: str, max_depth: int | None) -> list[str]:
        raise NotImplementedError

    def _cached_reach(self, service: str, direction: str, max_depth: int | None) -> list[str]:
        key = ("reach", service, direction, max_depth)
        if key not in self._cache:
            if service not in self._inventory.services:
                self._cache[key] = []
            else:
                self._cache[key] = self._reach(service, direction, max_depth)
        return self._cache[key]

    def connected(self, a: str, b: str, max_depth: int) -> bool:
        if a not in self._inventory.services or b not in self._inventory.services:
            return False
        if a == b:
            return True
        return b in self._cached_reach(a, "upstream", max_depth) or b in self._cached_reach(
            a, "blast_radius", max_depth
        )

    def hosts_of(self, service: str) -> set[str]:
        return set(self._inventory.hosts_of(service))

    def services_on(self, host: str) -> set[str]:
        key = ("services_on", host)
        if key not in self._cache:
            self._cache[key] = {s for s in self._inventory.services if host in self.hosts_of(s)}
        return set(self._cache[key])

    def upstream(self, service: str) -> list[str]:
        return list(self._cached_reach(service, "upstream", None))

    def blast_radius(self, service: str) -> list[str]:
        return list(self._cached_reach(service, "blast_radius", None))

    def neighbourhood(self, service: str) -> dict[str, Any]:
        spec = self._inventory.services.get(service)
        if spec is None:
            return {"service": service, "declared": False}
        hosts = sorted(self.hosts_of(service))
        return {
            "service": service,
            "declared": True,
            "type": spec.type,
            "hosts": hosts,
            "depends_on": sorted(spec.depends_on),
            "calls": sorted(spec.calls),
            "upstream": self.upstream(service),
            "blast_radius": self.blast_radius(service),
            "co_hosted": {
                h: sorted(self.services_on(h) - {service}) for h in hosts if self.services_on(h)
            },
        }


class GraphTopology(_Cached):
    """Answers from the FalkorDB graph holding `inventory` (loaded by the caller).

    Graph failures propagate as `graph.store.GraphError`: the caller (the
    tick) isolates and retries, as for any other component.
    """

    def __init__(self, store: GraphStore, inventory: Inventory) -> None:
        super().__init__(inventory)
        self._store = store

    def _reach(self, service: str, direction: str, max_depth: int | None) -> list[str]:
        ask = queries.upstream if direction == "upstream" else queries.blast_radius
        try:
            reach = ask(self._store, service, max_depth=max_depth or queries.MAX_DEPTH)
        except queries.UnknownService:
            return []
        return reach.names()


class InventoryTopology(_Cached):
    """Answers from the inventory in memory (breadth-first over DEPENDS_ON / CALLS)."""

    def __init__(self, inventory: Inventory) -> None:
        super().__init__(inventory)

    def _reach(self, service: str, direction: str, max_depth: int | None) -> list[str]:
        adj: dict[str, set[str]] = {}
        for e in self._inventory.impact_edges():
            src, dst = (e.source, e.target) if direction == "upstream" else (e.target, e.source)
            adj.setdefault(src, set()).add(dst)
        depth = {service: 0}
        queue = deque([service])
        while queue:
            node = queue.popleft()
            if max_depth is not None and depth[node] >= max_depth:
                continue
            for nxt in sorted(adj.get(node, ())):
                if nxt not in depth:
                    depth[nxt] = depth[node] + 1
                    queue.append(nxt)
        return sorted((s for s in depth if s != service), key=lambda s: (depth[s], s))
