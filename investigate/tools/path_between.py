"""`path_between`: the dependency chain between two services, either way."""

from __future__ import annotations

from investigate.model import ToolResult, ToolStatus
from investigate.tools.context import ToolContext
from investigate.tools.reach import reach
from investigate.tools.spec import ServiceName, ToolArgs, ToolSpec, ok, total

NAME = "path_between"


class PathArgs(ToolArgs):
    a: ServiceName
    b: ServiceName


@total(NAME)
def run(ctx: ToolContext, a: str, b: str) -> ToolResult:
    """The shortest DEPENDS_ON / CALLS chain from `a` to `b`, else from `b` to `a`, else
    NO_DATA."""
    ctx.check(a, graph=True)
    ctx.check(b, graph=True)
    if a == b:
        return ok(NAME, {"a": a, "b": b, "path": [a], "via": [], "reads": a})
    for src, dst in ((a, b), (b, a)):
        reached = {r["service"]: r for r in reach(ctx, src, "upstream")}
        if dst in reached:
            path, via = reached[dst]["path"], reached[dst]["via"]
            reads = path[0] + "".join(
                f" -{rel}-> {node}" for rel, node in zip(via, path[1:], strict=True)
            )
            return ok(NAME, {"a": a, "b": b, "path": path, "via": via, "reads": reads})
    return ToolResult(
        NAME,
        ToolStatus.NO_DATA,
        {"a": a, "b": b, "path": [], "note": "neither depends on or calls the other"},
    )


SPEC = ToolSpec(
    NAME,
    "The dependency chain between two services (a -> b, else b -> a), or no_data.",
    PathArgs,
    lambda ctx, args: run(ctx, args.a, args.b),
)
