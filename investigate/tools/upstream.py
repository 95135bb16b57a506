"""`upstream`: what a service depends on or calls, transitively."""

from __future__ import annotations

from investigate.model import ToolResult
from investigate.tools.context import ToolContext
from investigate.tools.reach import reach
from investigate.tools.spec import ServiceArgs, ToolSpec, ok, total

NAME = "upstream"


@total(NAME)
def run(ctx: ToolContext, service: str) -> ToolResult:
    """What `service` needs, transitively, nearest first, with depth and path."""
    ctx.check(service, graph=True)
    return ok(NAME, {"service": service, "upstream": reach(ctx, service, "upstream")}, "upstream")


SPEC = ToolSpec(
    NAME,
    "What a service depends on or calls, transitively, nearest first, with the path; "
    "`anomalous` marks services with findings in this incident.",
    ServiceArgs,
    lambda ctx, args: run(ctx, args.service),
)
