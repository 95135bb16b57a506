"""The inventory: the operator's declaration of hosts, services and their edges.

`load_inventory(path)` reads `inventory.yaml`, validates its shape with pydantic
(unknown keys are refused with a "did you mean") and then its meaning (every
reference names a declared host or service, no duplicates, no self-dependency).
Every problem carries the file, the line and the dotted field path. Dependency
cycles are legal (two services that call each other exist) and come back as
`Inventory.warnings`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from logvigil.core.configbase import Strict
from logvigil.core.duration import HINT as DURATION_HINT
from logvigil.core.duration import parse_duration
from logvigil.core.yamlfile import (
    ConfigError,
    PathKey,
    Problem,
    YamlDoc,
    dotted,
    load_yaml,
    problems_from_validation,
    suggest,
)

#: The built-in edge types that count for blast radius and upstream questions.
IMPACT_EDGES = ("DEPENDS_ON", "CALLS")
#: Edge types the loader creates itself; an inventory may not declare them.
RESERVED_EDGES = ("RUNS_ON", "IMPACTS", "REQUIRES")
#: `hosts: [all]` places a service on every declared host.
ALL_HOSTS = "all"

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$"
EDGE_TYPE_PATTERN = r"^[A-Z][A-Z0-9_]*$"
ATTRIBUTE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=200)]
_NAME = re.compile(NAME_PATTERN)


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a service or a host of an inventory; None when it can
    (for a name given elsewhere that must match the inventory's: `--service`)."""
    if len(name) > 200:
        return "a name has at most 200 characters"
    if _NAME.match(name) is None:
        return _NAME_HINT
    return None


def _attribute_value(value: Any) -> Any:
    scalar = (str, int, float, bool)
    if isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value)
    ):
        return value
    raise ValueError("a host attribute must be a string, number, boolean or a list of those")


AttrValue = Annotated[Any, BeforeValidator(_attribute_value)]
AttrKey = Annotated[str, Field(pattern=ATTRIBUTE_PATTERN, max_length=100)]


class _Strict(Strict):
    """Inventory models also accept a field by its name where it has an alias."""

    model_config = ConfigDict(populate_by_name=True)


class MatchSpec(_Strict):
    """Which log events belong to a service. Values may be shell-style globs (`php-fpm*`)."""

    units: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)
    containers: list[str] = Field(default_factory=list)


#: The longest heartbeat period `expect.every` accepts.
MAX_EVERY = timedelta(days=30)


def parse_every(value: Any) -> timedelta:
    """`30s`, `5m`, `2h`, `1d`, `1h30m` -> a positive timedelta of at most MAX_EVERY.

    A bare number is refused: `every: 5` could mean seconds or minutes, and a
    heartbeat watched at the wrong scale pages all day or never.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected {DURATION_HINT}")
    elif isinstance(value, int | float):
        if value <= 0:
            raise ValueError(f"must be positive: {DURATION_HINT}")
        raise ValueError(f"needs a unit: {DURATION_HINT}")
    else:
        seconds = parse_duration(value, at_most=MAX_EVERY).total_seconds()
    if seconds <= 0:
        raise ValueError(f"must be positive: {DURATION_HINT}")
    if seconds > MAX_EVERY.total_seconds():
        raise ValueError(f"must be at most {MAX_EVERY.days}d")
    return timedelta(seconds=seconds)


Every = Annotated[timedelta, BeforeValidator(parse_every)]


class ExpectSpec(_Strict):
    """What the operator knows a service logs: at least one line every `every`."""

    every: Every

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict | ExpectSpec):
            raise ValueError("expected a mapping such as {every: 5m}")
        return value


class ServiceSpec(_Strict):
    hosts: list[Name] = Field(default_factory=list)
    type: str = ""
    match: MatchSpec | None = None
    depends_on: list[Name] = Field(default_factory=list)
    calls: list[Name] = Field(default_factory=list)
    quiet: bool = False
    #: A heartbeat: watched exactly on each of `hosts` (see docs/silence.md).
    expect: ExpectSpec | None = None

    def effective_match(self, name: str) -> MatchSpec:
        """The declared `match`, or by default the service's own name as identifier and unit."""
        if self.match is not None:
            return self.match
        return MatchSpec(units=[f"{name}.service"], identifiers=[name])


class EdgeSpec(_Strict):
    from_: Name = Field(alias="from")
    to: Name
    type: Annotated[str, Field(pattern=EDGE_TYPE_PATTERN)]


class _InventoryModel(_Strict):
    hosts: dict[Name, dict[AttrKey, AttrValue] | None] = Field(default_factory=dict)
    services: dict[Name, ServiceSpec] = Field(default_factory=dict)
    edges: list[EdgeSpec] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Edge:
    """One directed edge between two declared names, as loaded into the graph."""

    source: str
    target: str
    type: str
    source_is_host: bool = False
    target_is_host: bool = False


class Inventory(_InventoryModel):
    """A validated inventory. `warnings` holds non-fatal problems (cycles)."""

    _file: str = PrivateAttr(default="")
    _warnings: list[Problem] = PrivateAttr(default_factory=list)

    @property
    def file(self) -> str:
        return self._file

    @property
    def warnings(self) -> list[Problem]:
        return list(self._warnings)

    def hosts_of(self, service: str) -> list[str]:
        """Hosts that run `service`, with `all` expanded; [] for an unknown service."""
        spec = self.services.get(service)
        if spec is None:
            return []
        if ALL_HOSTS in spec.hosts:
            return list(self.hosts)
        return list(spec.hosts)

    def host_attributes(self, host: str) -> dict[str, AttrValue]:
        return dict(self.hosts.get(host) or {})

    def edges_all(self) -> list[Edge]:
        """Every declared edge (service `depends_on`/`calls`, then `edges:`), without RUNS_ON."""
        out: list[Edge] = []
        for name, spec in self.services.items():
            out.extend(Edge(name, dep, "DEPENDS_ON") for dep in spec.depends_on)
            out.extend(Edge(name, callee, "CALLS") for callee in spec.calls)
        for e in self.edges:
            out.append(
                Edge(
                    e.from_,
                    e.to,
                    e.type,
                    source_is_host=e.from_ not in self.services,
                    target_is_host=e.to not in self.services,
                )
            )
        return out

    def impact_edges(self) -> list[Edge]:
        """Service-to-service DEPENDS_ON and CALLS edges, whichever section declared them."""
        return [
            e
            for e in self.edges_all()
            if e.type in IMPACT_EDGES and not (e.source_is_host or e.target_is_host)
        ]

    def fingerprint(self) -> str:
        """SHA-256 of the canonical content: equal for equal inventories, whatever the layout."""
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_inventory(path: Path | str) -> Inventory:
    """Read and validate an inventory file.

    Returns the `Inventory` (with `warnings` for cycles). Raises `ConfigError`
    carrying every problem found (syntax, unknown keys, bad references,
    duplicates, self-dependencies) and the warnings.
    """
    doc = load_yaml(path)
    return inventory_from_doc(doc)


def inventory_from_doc(doc: YamlDoc) -> Inventory:
    """Validate an already parsed YAML document; see `load_inventory`."""
    problems: list[Problem] = list(doc.duplicates)
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    doc.file,
                    doc.line_of(()),
                    "",
                    "the inventory must be a mapping with 'hosts', 'services' and 'edges'",
                )
            ]
        )
    try:
        inv = Inventory.model_validate(data)
    except ValidationError as err:
        problems.extend(_friendlier(p) for p in problems_from_validation(err, doc, Inventory))
        raise ConfigError(_sorted(problems)) from None
    problems.extend(_check_references(inv, doc))
    warnings = _check_cycles(inv, doc)
    if problems:
        raise ConfigError(_sorted(problems) + warnings)
    inv._file = doc.file
    inv._warnings = warnings
    return inv


_NAME_HINT = "invalid name: use letters, digits and . _ @ : + - (starting with a letter or digit)"
_PATTERN_HINTS = {
    NAME_PATTERN: _NAME_HINT,
    EDGE_TYPE_PATTERN: "edge type must be UPPER_SNAKE_CASE, like CALLS or BACKS_UP",
    ATTRIBUTE_PATTERN: "invalid attribute name: use letters, digits, _ and -",
}


def _friendlier(problem: Problem) -> Problem:
    """Replace pydantic's regex wording with a sentence an operator can act on."""
    path = problem.path.removesuffix(".[key]")
    message = problem.message
    for pattern, hint in _PATTERN_HINTS.items():
        prefix = f"String should match pattern '{pattern}'"
        if message.startswith(prefix):
            message = hint + message[len(prefix) :]
    return Problem(problem.file, problem.line, path, message, problem.warning)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _check_references(inv: Inventory, doc: YamlDoc) -> list[Problem]:
    """Cross-reference problems: undefined names, duplicates, self-dependencies, reserved names."""
    out: list[Problem] = []
    hosts = set(inv.hosts)
    services = set(inv.services)

    def problem(path: PathKey, message: str) -> None:
        out.append(Problem(doc.file, doc.line_of(path), dotted(path), message))

    if ALL_HOSTS in hosts:
        problem(("hosts", ALL_HOSTS), f"{ALL_HOSTS!r} is reserved (hosts: [all]); rename this host")

    for host, attrs in inv.hosts.items():
        if attrs and "name" in attrs:
            problem(("hosts", host, "name"), "'name' is reserved: the host's name is its key")

    seen_edges: dict[tuple[str, str, str], PathKey] = {}

    def note_edge(key: tuple[str, str, str], path: PathKey) -> None:
        first = seen_edges.get(key)
        if first is None:
            seen_edges[key] = path
            return
        problem(
            path,
            f"duplicate edge {key[0]} -{key[2]}-> {key[1]} "
            f"(already declared at {dotted(first)}, line {doc.line_of(first)})",
        )

    for name, spec in inv.services.items():
        base: PathKey = ("services", name)
        if spec.expect is not None and spec.quiet:
            problem(
                (*base, "expect"),
                "a service cannot be both quiet and expected to log: drop 'quiet' or 'expect'",
            )
        if spec.expect is not None and not spec.hosts:
            problem(
                (*base, "expect"),
                "'expect' needs the hosts to watch the service on: add them to 'hosts'",
            )
        for i, host in _dupes_checked(spec.hosts, (*base, "hosts"), doc, out, "host"):
            if host == ALL_HOSTS:
                if len(spec.hosts) > 1:
                    problem((*base, "hosts", i), "'all' cannot be combined with other hosts")
            elif host not in hosts:
                problem(
                    (*base, "hosts", i),
                    f"undefined host {host!r}{suggest(host, hosts | {ALL_HOSTS})}",
                )
        for field_, etype in (("depends_on", "DEPENDS_ON"), ("calls", "CALLS")):
            targets = getattr(spec, field_)
            for i, target in _dupes_checked(targets, (*base, field_), doc, out, "service"):
                path = (*base, field_, i)
                if target == name:
                    problem(path, f"service {name!r} cannot depend on or call itself")
                elif target not in services:
                    problem(path, f"undefined service {target!r}{suggest(target, services)}")
                else:
                    note_edge((name, target, etype), path)

    names = services | hosts
    for i, edge in enumerate(inv.edges):
        base = ("edges", i)
        ok = True
        for key, value in (("from", edge.from_), ("to", edge.to)):
            if value not in names:
                problem(
                    (*base, key),
                    f"undefined service or host {value!r}{suggest(value, names)}",
                )
                ok = False
        if edge.type in RESERVED_EDGES:
            problem(
                (*base, "type"),
                f"edge type {edge.type!r} is reserved: the loader creates it "
                "(RUNS_ON comes from services.<name>.hosts)",
            )
            ok = False
        if edge.from_ == edge.to:
            problem(base, f"edge from {edge.from_!r} to itself")
            ok = False
        elif (
            edge.type in IMPACT_EDGES
            and ok
            and (edge.from_ not in services or edge.to not in services)
        ):
            problem(
                (*base, "type"),
                f"{edge.type} edges connect services; {edge.from_!r} or {edge.to!r} is a host",
            )
            ok = False
        if ok:
            note_edge((edge.from_, edge.to, edge.type), base)
    return out


def _dupes_checked(
    items: list[str], path: PathKey, doc: YamlDoc, out: list[Problem], what: str
) -> Iterator[tuple[int, str]]:
    """Yield (index, item) for the first occurrence of each item; report repeats."""
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item in first:
            out.append(
                Problem(
                    doc.file,
                    doc.line_of((*path, i)),
                    dotted((*path, i)),
                    f"duplicate {what} {item!r} (already listed at index {first[item]})",
                )
            )
            continue
        first[item] = i
        yield i, item


def _check_cycles(inv: Inventory, doc: YamlDoc) -> list[Problem]:
    """One warning per strongly connected group of services (a dependency cycle)."""
    adj: dict[str, list[str]] = {name: [] for name in inv.services}
    for e in inv.impact_edges():
        known = e.source in adj and e.target in adj and e.source != e.target
        if known and e.target not in adj[e.source]:
            adj[e.source].append(e.target)
    warnings: list[Problem] = []
    for component in _strongly_connected(adj):
        if len(component) < 2:
            continue
        cycle = _a_cycle(adj, set(component), min(component, key=list(inv.services).index))
        start = cycle[0]
        warnings.append(
            Problem(
                doc.file,
                doc.line_of(("services", start)),
                dotted(("services", start)),
                "dependency cycle: " + " -> ".join(cycle),
                warning=True,
            )
        )
    return _sorted(warnings)


def _strongly_connected(adj: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (an inventory may be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in adj:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_i = work.pop()
            if child_i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            children = adj[node]
            for j in range(child_i, len(children)):
                child = children[j]
                if child not in index:
                    work.append((node, j + 1))
                    work.append((child, 0))
                    recurse = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if recurse:
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                result.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _a_cycle(adj: dict[str, list[str]], component: set[str], start: str) -> list[str]:
    """A shortest cycle through `start` inside `component`, as names ending with `start`."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for child in adj[node]:
                if child not in component:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child not in parents:
                    parents[child] = node
                    nxt.append(child)
        frontier = nxt
    return [start, start]  # unreachable for a component of two or more


def describe(inv: Inventory) -> dict[str, Any]:
    """Counts for a one-line summary."""
    return {
        "hosts": len(inv.hosts),
        "services": len(inv.services),
        "edges": len(inv.edges_all()),
    }
