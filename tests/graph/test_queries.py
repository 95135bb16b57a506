"""Blast radius, upstream, co-hosted and path queries, on both FalkorDB backends."""

from __future__ import annotations

import random
from collections import deque

import pytest

from graph import queries
from graph.inventory import Inventory, load_inventory
from graph.store import GraphStore


@pytest.fixture
def loaded(store: GraphStore, homelab: Inventory) -> GraphStore:
    store.load(homelab)
    return store


def test_blast_radius_lists_every_transitive_dependant_with_depth_and_path(
    loaded: GraphStore,
) -> None:
    reach = queries.blast_radius(loaded, "postgres")
    assert [(r.service, r.depth) for r in reach.services] == [
        ("backup", 1),
        ("gitea", 1),
        ("nextcloud", 1),
        ("nginx", 2),
    ]
    nginx = reach.services[-1]
    assert nginx.path[0] == "postgres" and nginx.path[-1] == "nginx"
    assert nginx.path in (("postgres", "gitea", "nginx"), ("postgres", "nextcloud", "nginx"))
    assert nginx.via[-1] == "CALLS"


def test_blast_radius_json_has_the_documented_shape(loaded: GraphStore) -> None:
    data = queries.blast_radius(loaded, "nextcloud").to_json()
    assert data == {
        "service": "nextcloud",
        "blast_radius": [{"service": "nginx", "depth": 1, "path": ["nextcloud", "nginx"]}],
    }


def test_a_service_nobody_needs_has_an_empty_blast_radius(loaded: GraphStore) -> None:
    assert queries.blast_radius(loaded, "nginx").services == ()


def test_other_edge_types_do_not_spread_impact(loaded: GraphStore) -> None:
    # backup WRITES_TO nfs: that edge is drawn but is not a dependency
    assert "backup" not in queries.blast_radius(loaded, "nfs").names()
    assert queries.blast_radius(loaded, "nfs").names() == ["nextcloud", "nginx"]


def test_upstream_lists_what_a_service_transitively_needs(loaded: GraphStore) -> None:
    reach = queries.upstream(loaded, "nginx")
    assert [(r.service, r.depth) for r in reach.services] == [
        ("dns", 1),
        ("gitea", 1),
        ("nextcloud", 1),
        ("nfs", 2),
        ("postgres", 2),
        ("redis", 2),
    ]
    assert reach.to_json()["upstream"][3] == {
        "service": "nfs",
        "depth": 2,
        "path": ["nginx", "nextcloud", "nfs"],
    }


def test_an_unknown_service_is_refused_with_a_suggestion(loaded: GraphStore) -> None:
    with pytest.raises(queries.UnknownService, match='did you mean "postgres"'):
        queries.blast_radius(loaded, "postgress")
    with pytest.raises(queries.UnknownService):
        queries.upstream(loaded, "nope")


def test_co_hosted_lists_the_neighbours_on_each_host(loaded: GraphStore) -> None:
    by_host = {c.host: c.services for c in queries.co_hosted(loaded, "postgres")}
    assert by_host == {"db-01": ("kernel", "redis", "sshd")}


def test_path_between_follows_edges_in_either_direction(loaded: GraphStore) -> None:
    path = queries.path_between(loaded, "postgres", "nginx")
    assert path is not None
    assert path.nodes[0] == "nginx" and path.nodes[-1] == "postgres" and len(path.nodes) == 3
    assert str(queries.path_between(loaded, "nextcloud", "redis")) == (
        "nextcloud -DEPENDS_ON-> redis"
    )
    assert queries.path_between(loaded, "redis", "gitea") is None


def test_cycles_are_walked_once(store: GraphStore, write_inventory) -> None:
    inv = load_inventory(
        write_inventory("services:\n  a: {calls: [b]}\n  b: {calls: [c]}\n  c: {calls: [a]}\n")
    )
    store.load(inv)
    assert [(r.service, r.depth) for r in queries.blast_radius(store, "a").services] == [
        ("c", 1),
        ("b", 2),
    ]


def test_depths_are_shortest_paths_on_a_large_random_graph(
    store: GraphStore, write_inventory
) -> None:
    rng = random.Random(7)
    n = 300
    deps: dict[str, set[str]] = {f"s{i}": set() for i in range(n)}
    for _ in range(900):
        a = rng.randrange(1, n)
        deps[f"s{a}"].add(f"s{rng.randrange(max(0, a - 40), a)}")
    lines = ["services:"] + [
        f"  {s}: {{depends_on: [{', '.join(sorted(d))}]}}" for s, d in deps.items()
    ]
    store.load(load_inventory(write_inventory("\n".join(lines) + "\n")))

    dependants: dict[str, list[str]] = {s: [] for s in deps}
    for s, targets in deps.items():
        for t in targets:
            dependants[t].append(s)
    for target in ("s0", "s5", "s150"):
        expected: dict[str, int] = {}
        queue = deque([(target, 0)])
        seen = {target}
        while queue:
            node, d = queue.popleft()
            for nxt in dependants[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    expected[nxt] = d + 1
                    queue.append((nxt, d + 1))
        got = queries.blast_radius(store, target).services
        assert {r.service: r.depth for r in got} == expected
        for r in got:  # every path is a real chain of declared dependencies
            assert len(r.path) == r.depth + 1
            assert all(b in dependants[a] for a, b in zip(r.path, r.path[1:], strict=False))
