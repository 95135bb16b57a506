"""`co_hosted`: the other services on a service's hosts."""

from __future__ import annotations

from investigate.model import ToolResult
from investigate.tools.context import ToolContext
from investigate.tools.spec import ServiceArgs, ToolSpec, ok, total

NAME = "co_hosted"


@total(NAME)
def run(ctx: ToolContext, service: str) -> ToolResult:
    """Per host of `service`, the other services on it and whether they have findings."""
    ctx.check(service, graph=True)
    rows = [
        {
            "host": h,
            "services": [
                {"service": s, "anomalous": ctx.anomalous(s)}
                for s in sorted(ctx.topology.services_on(h) - {service})
            ],
        }
        for h in sorted(ctx.topology.hosts_of(service))
    ]
    return ok(NAME, {"service": service, "hosts": [r for r in rows if r["services"]]}, "hosts")


SPEC = ToolSpec(
    NAME,
    "Other services on the same host(s) as a service, and whether they have findings.",
    ServiceArgs,
    lambda ctx, args: run(ctx, args.service),
)
