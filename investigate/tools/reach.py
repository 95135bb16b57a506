"""Breadth-first walks of the inventory's DEPENDS_ON / CALLS edges, shared by `upstream`,
`blast_radius` and `path_between`."""

from __future__ import annotations

from collections import deque
from typing import Any, Literal

from investigate.tools.context import ToolContext

Direction = Literal["upstream", "blast_radius"]


def reach(ctx: ToolContext, service: str, direction: Direction) -> list[dict[str, Any]]:
    """What `service` needs (`upstream`) or what needs it (`blast_radius`), transitively:
    one row per service with its depth, the path from `service` and the edge types along
    it, and whether it has findings in this incident; nearest first, then by name."""
    adj: dict[str, list[tuple[str, str]]] = {}
    for edge in ctx.topology.inventory.impact_edges():
        src, dst = (
            (edge.source, edge.target) if direction == "upstream" else (edge.target, edge.source)
        )
        adj.setdefault(src, []).append((dst, edge.type))
    paths: dict[str, tuple[list[str], list[str]]] = {service: ([service], [])}
    queue = deque([service])
    while queue:
        node = queue.popleft()
        for nxt, via in sorted(adj.get(node, ())):
            if nxt not in paths:
                nodes, vias = paths[node]
                paths[nxt] = ([*nodes, nxt], [*vias, via])
                queue.append(nxt)
    out = [
        {
            "service": s,
            "depth": len(vias),
            "path": nodes,
            "via": vias,
            "anomalous": ctx.anomalous(s),
        }
        for s, (nodes, vias) in paths.items()
        if s != service
    ]
    out.sort(key=lambda r: (r["depth"], r["service"]))
    return out
