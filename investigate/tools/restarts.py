"""`restarts`: restart, stop, unit-failure and deploy-like lines in the incident's window."""

from __future__ import annotations

from investigate.model import ToolResult, ToolStatus
from investigate.tools.context import MAX_LINE_CHARS, ToolContext, line
from investigate.tools.spec import MAX_ROWS, OptionalServiceArgs, ToolSpec, ok, total
from logvigil.core.timeutil import iso_z
from logvigil.store import evidence
from logvigil.store.evidence import DEPLOY_LIKE, RESTART_LIKE

NAME = "restarts"


@total(NAME)
def run(ctx: ToolContext, service: str | None = None) -> ToolResult:
    """Restart, stop and deploy-like lines in the window: of `service` (or of every
    service of the incident) and of systemd on their hosts."""
    if service is not None:
        ctx.check(service)
        services = [service]
    else:
        services = ctx.incident_services()
    hosts: set[str] = set()
    for s in services:
        hosts |= ctx.topology.hosts_of(s)
    hosts |= {
        f.host
        for f in ctx.incident.findings
        if f.host and (service is None or f.service == service)
    }
    if not services and not hosts:
        return ToolResult(NAME, ToolStatus.NO_DATA, {"service": service, "events": []})
    w = ctx.window
    with ctx.engine.connect() as conn:
        rows = evidence.restart_lines(
            conn,
            services=services,
            hosts=hosts,
            start=w.start,
            end=w.end,
            patterns=(*RESTART_LIKE, *DEPLOY_LIKE),
            limit=MAX_ROWS * 5,
            line_chars=MAX_LINE_CHARS,
        )
    events = [
        {
            "ts": iso_z(r.ts),
            "host": r.host,
            "service": r.service,
            "kind": "deploy" if any(p.strip("%") in r.message for p in DEPLOY_LIKE) else "restart",
            "line": line(r.message),
        }
        for r in rows
    ]
    data = {"service": service, "window": w.to_json(), "events": events}
    return ok(NAME, data, "events")


SPEC = ToolSpec(
    NAME,
    "Restarts, stops, unit failures and deploy-like lines during the incident window, "
    "of one service or of all the incident's services (and systemd on their hosts).",
    OptionalServiceArgs,
    lambda ctx, args: run(ctx, args.service),
)
