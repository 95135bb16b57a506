"""`logvigil web`: read-only pages over the store (Starlette + Jinja2, no script at all).

Pages: `/` incidents (filters: service, host, severity, status, since, until),
`/incidents/{id}` one incident (report, chart of its services' lines and errors with
each finding marked, dependency graph with the root, the affected and the at-risk
services), `/services` services and hosts, `/templates` search and newest templates,
`/status` sources, leader and channels, `/trends` errors and incidents per service per
day. Everything is rendered on the server; the pictures are inline SVG.

Safe by default:
- every piece of text goes through Jinja2's autoescape (log text included), and the
  pages carry no script: the CSP forbids any (`script-src 'none'`), framing is denied;
- with a token (`web.token`, from the environment), every request must carry it:
  `Authorization: Bearer TOKEN`, or once as `?token=TOKEN`, which sets an HttpOnly,
  SameSite=Strict cookie and redirects to the same page without it;
- only GET and HEAD exist: nothing here changes state.

The pages are plain functions: Starlette runs them in its thread pool, so a slow page
does not hold the others up.
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from detector.incidents.chart import incident_chart_data
from detector.incidents.manager import IncidentManager
from graph.inventory import Inventory
from investigate.service import load_report
from logvigil.app.settings import Settings
from logvigil.app.status import gather
from logvigil.core.events import Severity
from logvigil.core.timeutil import parse_when, wall_clock
from logvigil.search.templates import search_templates
from logvigil.store.schema import SilenceRow
from logvigil.web import data
from logvigil.web.svg import dependency_graph, incident_chart, sparkline

HERE = Path(__file__).parent
COOKIE = "logvigil_token"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SEVERITIES = ("warning", "error", "critical", "alert", "emergency")
TREND_DAYS_MAX = 92


class BadParameter(ValueError):
    """A query parameter a page cannot use; the message names it."""


@dataclass
class WebContext:
    engine: Engine
    settings: Settings
    inventory: Inventory | None
    token: str | None
    clock: Callable[[], datetime]


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("logvigil.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = lambda t: "-" if t is None else t.strftime("%Y-%m-%d %H:%M")
    return env


def _when(request: Request, name: str, now: datetime) -> datetime | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_when(value, now)
    except ValueError as exc:
        raise BadParameter(f"{name}={value!r}: {exc}") from None


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise BadParameter(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name, "").strip()
    if not value:
        return default
    try:
        n = int(value)
    except ValueError:
        raise BadParameter(f"{name}={value!r}: expected a whole number") from None
    if not low <= n <= high:
        raise BadParameter(f"{name}={value!r}: expected {low} to {high}")
    return n


def create_app(
    engine: Engine,
    settings: Settings,
    *,
    inventory: Inventory | None = None,
    token: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The web application over `engine` (read-only)."""
    ctx = WebContext(engine, settings, inventory, token or None, clock or wall_clock)
    env = _env()

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**values), status_code=status)

    def incidents(request: Request) -> Response:
        now = ctx.clock()
        sev = _choice(request, "severity", SEVERITIES)
        f = data.IncidentFilter(
            service=request.query_params.get("service") or None,
            host=request.query_params.get("host") or None,
            severity=Severity[sev.upper()] if sev else None,
            status=_choice(request, "status", ("open", "resolved")),
            since=_when(request, "since", now),
            until=_when(request, "until", now),
        )
        with ctx.engine.connect() as conn:
            rows = data.list_incidents(conn, f)
        return page("incidents.html", rows=rows, f=request.query_params, severities=SEVERITIES)

    def incident(request: Request) -> Response:
        try:
            incident_id = int(request.path_params["id"])
        except ValueError:
            raise BadParameter(f"incident {request.path_params['id']!r}: not a number") from None
        inc = IncidentManager(ctx.engine, None).get(incident_id)
        if inc is None:
            return page("error.html", 404, message=f"no incident #{incident_id} in the store")
        report = load_report(ctx.engine, incident_id)
        with ctx.engine.connect() as conn:
            drawn = incident_chart_data(conn, inc)
        root = report.root_cause.service if report and report.root_cause else None
        root = root or (inc.root.service if inc.root else None)
        affected = [i.service for i in (report.impact if report else []) if i.status == "affected"]
        at_risk = [i.service for i in (report.impact if report else []) if i.status == "at_risk"]
        graph = ""
        if ctx.inventory is not None:
            edges = [(e.source, e.target) for e in ctx.inventory.impact_edges()]
            graph = dependency_graph(edges, root=root, affected=affected, at_risk=at_risk)
        return page(
            "incident.html",
            inc=inc,
            report=report,
            chart=incident_chart(drawn.series, drawn.marks),
            graph=graph,
            root=root,
            affected=affected,
            at_risk=at_risk,
        )

    def services(request: Request) -> Response:
        now = ctx.clock()
        with ctx.engine.connect() as conn:
            status = gather(ctx.engine, ctx.settings, now)
            seen = data.last_seen(conn)
            silences = (
                conn.execute(
                    select(SilenceRow).where(
                        SilenceRow.removed_at.is_(None), SilenceRow.expires_at > now
                    )
                )
                .scalars()
                .all()
            )
            recent = data.list_incidents(conn, data.IncidentFilter(since=now - timedelta(days=7)))
        learning = {s["service"]: s for s in status["learning"]}
        expected = {}
        if ctx.inventory is not None:
            expected = {
                name: spec.expect for name, spec in ctx.inventory.services.items() if spec.expect
            }
        return page(
            "services.html",
            names=sorted(set(seen) | set(learning)),
            seen=seen,
            learning=learning,
            expected=expected,
            silences=silences,
            counts=Counter(s for r in recent for s in r.services),
            hosts=sorted({h for r in recent for h in r.hosts}),
        )

    def templates(request: Request) -> Response:
        now = ctx.clock()
        q = request.query_params.get("q", "").strip()[:200]
        days = 14
        start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        hits = search_templates(ctx.engine, q, limit=25) if q else []
        with ctx.engine.connect() as conn:
            newest = data.newest_templates(conn, 25)
            ids = [h.template_id for h in hits] + [t.id for t in newest]
            daily = data.template_daily(conn, ids, start, days)
        sparks = {t: sparkline(v) for t, v in daily.items()}
        return page("templates.html", q=q, hits=hits, newest=newest, sparks=sparks, days=days)

    def status_page(request: Request) -> Response:
        return page("status.html", s=gather(ctx.engine, ctx.settings, ctx.clock()))

    def trends_page(request: Request) -> Response:
        now = ctx.clock()
        days = _int(request, "days", 14, 1, TREND_DAYS_MAX)
        until = _when(request, "until", now) or now
        start = until - timedelta(days=days - 1)
        with ctx.engine.connect() as conn:
            t = data.trends(conn, start, days)
        names = sorted(set(t.errors) | set(t.incidents))
        sparks = {n: sparkline(t.errors.get(n, [0] * days)) for n in names}
        return page("trends.html", t=t, names=names, sparks=sparks, days=days)

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method not in ("GET", "HEAD"):
            response: Response = page("error.html", 405, message="this server only reads")
        elif ctx.token and not _authorised(request, ctx.token):
            given = request.query_params.get("token")
            if given is not None and hmac.compare_digest(given, ctx.token):
                rest = {k: v for k, v in request.query_params.items() if k != "token"}
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(COOKIE, ctx.token, httponly=True, samesite="strict")
            else:
                response = page("error.html", 401, message="a token is required (?token=...)")
        else:
            response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers[k] = v
        return response

    routes = [
        Route("/", incidents),
        Route("/incidents/{id}", incident),
        Route("/services", services),
        Route("/templates", templates),
        Route("/status", status_page),
        Route("/trends", trends_page),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def bad_parameter(_request: Request, exc: Exception) -> Response:
        return page("error.html", 400, message=str(exc))

    async def store_error(_request: Request, exc: Exception) -> Response:
        orig = getattr(exc, "orig", exc)
        return page("error.html", 503, message=f"the store cannot be read: {orig}")

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return page("error.html", 404, message="no such page")

    return Starlette(
        routes=routes,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)],
        exception_handlers={BadParameter: bad_parameter, DBAPIError: store_error, 404: not_found},
    )


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    bearer = header[7:] if header.lower().startswith("bearer ") else ""
    cookie = request.cookies.get(COOKIE, "")
    return any(hmac.compare_digest(v, token) for v in (bearer, cookie) if v)
