"""Evidence tools: deterministic, typed, bounded questions about one incident.

Each tool is one module with a total function `run(ctx, ...)` (it returns a
`ToolResult`, `ok` / `no_data` / `error` with the full detail, and never
raises) and its `SPEC` (name, description, typed arguments); `TOOLS` below is
the registry the crew and `EvidenceTools.run` read. Adding a tool is a module
and a line here.

    tools = EvidenceTools(engine, topology, incident)   # one incident, one window
    timeline.run(tools)                                 # a typed call
    tools.run("upstream", {"service": "nextcloud"})     # a model's call: validated, logged

An unknown service is an ERROR with a "did you mean", bad arguments are an
ERROR with pydantic's message, a database error is an ERROR naming the
exception. Lines are redacted and cut like the bundle's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from detector.incidents.model import Incident
from investigate.model import ToolResult, ToolStatus
from investigate.tools import (
    blast_radius,
    co_hosted,
    lines_around,
    path_between,
    restarts,
    template_stats,
    timeline,
    upstream,
)
from investigate.tools.context import DeclaredTopology, ToolContext
from investigate.tools.spec import ToolSpec
from logvigil.core.yamlfile import suggest

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        timeline.SPEC,
        template_stats.SPEC,
        lines_around.SPEC,
        upstream.SPEC,
        blast_radius.SPEC,
        path_between.SPEC,
        co_hosted.SPEC,
        restarts.SPEC,
    )
}


class EvidenceTools(ToolContext):
    """The evidence tools over one incident, its store and a topology.

    `calls` logs every `run(...)` (name, arguments, result), in order.
    """

    def __init__(self, engine: Engine, topology: DeclaredTopology, incident: Incident) -> None:
        super().__init__(engine, topology, incident)
        self.calls: list[tuple[str, dict[str, Any], ToolResult]] = []

    def run(self, name: str, arguments: Mapping[str, Any] | None = None) -> ToolResult:
        """Call tool `name` with JSON `arguments` (validated), log it in `calls`, return it."""
        args = dict(arguments or {})
        spec = TOOLS.get(name)
        if spec is None:
            result = ToolResult(
                name,
                ToolStatus.ERROR,
                None,
                f"unknown tool {name!r}{suggest(name, set(TOOLS))}; tools: {', '.join(TOOLS)}",
            )
        else:
            result = spec.invoke(self, args)
        self.calls.append((name, args, result))
        return result
