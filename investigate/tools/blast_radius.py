"""`blast_radius`: what depends on or calls a service, transitively."""

from __future__ import annotations

from investigate.model import ToolResult
from investigate.tools.context import ToolContext
from investigate.tools.reach import reach
from investigate.tools.spec import ServiceArgs, ToolSpec, ok, total

NAME = "blast_radius"


@total(NAME)
def run(ctx: ToolContext, service: str) -> ToolResult:
    """What needs `service`, transitively, nearest first; `anomalous` marks those with
    findings in this incident."""
    ctx.check(service, graph=True)
    reached = reach(ctx, service, "blast_radius")
    return ok(NAME, {"service": service, "blast_radius": reached}, "blast_radius")


SPEC = ToolSpec(
    NAME,
    "What depends on or calls a service, transitively (what its failure takes down), "
    "nearest first, with the path; `anomalous` marks services with findings.",
    ServiceArgs,
    lambda ctx, args: run(ctx, args.service),
)
