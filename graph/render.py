"""Pictures of an inventory: a readable text tree, Mermaid and Graphviz DOT.

Rendered from the validated `Inventory` (the same data the graph is loaded
from), so `graph show` needs no database.
"""

from __future__ import annotations

from graph.inventory import IMPACT_EDGES, Inventory


def tree(inv: Inventory) -> str:
    """Hosts with their services, then each dependency chain from the services nobody needs.

    A service reached again is shown once in full and then as `(see above)`;
    a cycle is cut with `(cycle)`.
    """
    lines: list[str] = ["hosts"]
    for host in inv.hosts:
        attrs = inv.host_attributes(host)
        shown = " ".join(f"{k}={_attr(v)}" for k, v in attrs.items())
        lines.append(f"  {host}" + (f" ({shown})" if shown else ""))
        for name in inv.services:
            if host in inv.hosts_of(name):
                lines.append(f"    {name}{_kind(inv, name)}")
    homeless = [s for s in inv.services if not inv.hosts_of(s)]
    if homeless:
        lines.append("  (no host)")
        lines.extend(f"    {name}{_kind(inv, name)}" for name in homeless)

    needs: dict[str, list[tuple[str, str]]] = {name: [] for name in inv.services}
    needed: set[str] = set()
    for e in inv.impact_edges():
        needs[e.source].append((e.type, e.target))
        needed.add(e.target)
    roots = [s for s in inv.services if s not in needed]
    # Services only inside cycles have no root; start from the first of them.
    shown_once: set[str] = set()
    lines.append("dependencies")

    def walk(name: str, prefix: str, on_path: tuple[str, ...]) -> None:
        children = needs[name]
        for i, (etype, target) in enumerate(children):
            last = i == len(children) - 1
            branch = "└── " if last else "├── "
            label = f"{etype.lower()} {target}"
            if target in on_path:
                lines.append(f"{prefix}{branch}{label} (cycle)")
                continue
            if target in shown_once and needs[target]:
                lines.append(f"{prefix}{branch}{label} (see above)")
                continue
            shown_once.add(target)
            lines.append(f"{prefix}{branch}{label}")
            walk(target, prefix + ("    " if last else "│   "), (*on_path, target))

    for root in [*roots, *(s for s in inv.services if s not in roots)]:
        if root in shown_once:
            continue
        shown_once.add(root)
        lines.append(f"  {root}{_kind(inv, root)}")
        walk(root, "    ", (root,))
    others = [e for e in inv.edges_all() if e.type not in IMPACT_EDGES]
    if others:
        lines.append("other edges")
        lines.extend(f"  {e.source} -{e.type}-> {e.target}" for e in others)
    return "\n".join(lines) + "\n"


def _attr(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _kind(inv: Inventory, name: str) -> str:
    spec = inv.services[name]
    tags = [t for t in (spec.type, "quiet" if spec.quiet else "") if t]
    return f" [{', '.join(tags)}]" if tags else ""


def mermaid(inv: Inventory) -> str:
    """A Mermaid `flowchart LR`: services as boxes, hosts as cylinders, RUNS_ON dotted."""
    ids = _ids(inv)
    out = ["flowchart LR"]
    for host in inv.hosts:
        out.append(f'  {ids["h", host]}[("{_mermaid_text(host)}")]')
    for name in inv.services:
        out.append(f'  {ids["s", name]}["{_mermaid_text(name)}"]')
    for e in inv.edges_all():
        a = ids["h" if e.source_is_host else "s", e.source]
        b = ids["h" if e.target_is_host else "s", e.target]
        out.append(f"  {a} -->|{e.type}| {b}")
    for name in inv.services:
        for host in inv.hosts_of(name):
            out.append(f"  {ids['s', name]} -.-> {ids['h', host]}")
    return "\n".join(out) + "\n"


def dot(inv: Inventory) -> str:
    """A Graphviz digraph: services as boxes, hosts as cylinders, RUNS_ON dashed."""
    out = ["digraph inventory {", "  rankdir=LR;", "  node [shape=box];"]
    for host in inv.hosts:
        out.append(f"  {_dot_id('host:' + host)} [label={_dot_id(host)}, shape=cylinder];")
    for name in inv.services:
        out.append(f"  {_dot_id(name)};")
    for e in inv.edges_all():
        a = _dot_id(("host:" if e.source_is_host else "") + e.source)
        b = _dot_id(("host:" if e.target_is_host else "") + e.target)
        out.append(f"  {a} -> {b} [label={_dot_id(e.type)}];")
    for name in inv.services:
        for host in inv.hosts_of(name):
            out.append(f"  {_dot_id(name)} -> {_dot_id('host:' + host)} [style=dashed];")
    out.append("}")
    return "\n".join(out) + "\n"


def _ids(inv: Inventory) -> dict[tuple[str, str], str]:
    """Mermaid node ids: names may hold characters Mermaid reads as syntax."""
    ids: dict[tuple[str, str], str] = {}
    for i, host in enumerate(inv.hosts):
        ids["h", host] = f"h{i}"
    for i, name in enumerate(inv.services):
        ids["s", name] = f"s{i}"
    return ids


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
