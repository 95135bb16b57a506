"""Evidence tools: deterministic, typed, bounded questions about one incident.

API (stable; the crew wraps `TOOLS` as its tools)::

    tools = EvidenceTools(engine, topology, incident)   # one incident, one window
    tools.timeline() -> ToolResult                      # first occurrence of each anomalous
                                                        #   template / finding, in time order
    tools.template_stats(service) -> ToolResult         # per template: before / during counts
    tools.lines_around(at, service=None, minutes=5, limit=30) -> ToolResult
    tools.upstream(service) / tools.blast_radius(service) -> ToolResult   # with depth, path
    tools.path_between(a, b) -> ToolResult              # directed chain either way, or NO_DATA
    tools.co_hosted(service) -> ToolResult              # per host, the other services
    tools.restarts(service=None) -> ToolResult          # restart / stop / deploy-like lines

    TOOLS: dict[str, ToolSpec]       # name -> ToolSpec(name, description, args, call)
    TOOLS["upstream"].invoke(tools, {"service": "nextcloud"}) -> ToolResult
    tools.run("upstream", {"service": "nextcloud"}) -> ToolResult   # same, and logged
    result_text(result) -> str       # the compact JSON a model is given (bounded)

Every method returns a `ToolResult` (`ok`, `no_data`, or `error` with the
full detail) and never raises: an unknown service is an ERROR with a "did you
mean", bad arguments are an ERROR with pydantic's message, a database error is
an ERROR naming the exception. Every `data` is a JSON-able dict whose lists are
bounded (`MAX_ROWS`) and whose encoding is at most `MAX_OUTPUT_CHARS` (lists
are cut from the end and `truncated` counts the cut rows). Lines are redacted
and cut like the bundle's.

Windows come from the incident, never from the wall clock: the bundle's
window (`start` = onset - lead-in, `onset` = first anomaly, `end`), or, for an
incident without a bundle, the same derived from its findings.
"""

from __future__ import annotations

import functools
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine, case, func, or_, select

from detector.incidents.bundle import INIT_SERVICES, RESTART_LIKE
from detector.incidents.model import Incident
from detector.incidents.topology import Topology
from investigate.model import ToolResult, ToolStatus
from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.redact import clean_line
from logvigil.core.timeutil import iso_z, parse_iso
from logvigil.core.yamlfile import suggest
from logvigil.store.schema import Event, MinuteCount, ServiceTemplate, Template

#: Rows in any list a tool returns.
MAX_ROWS = 40
#: Characters of a tool's JSON output (its `data`), whatever the rows.
MAX_OUTPUT_CHARS = 8000
#: Characters of one log line or template in an output.
MAX_LINE_CHARS = 240
#: Rows scanned by a line query: bounded whatever the log volume.
SCAN_ROWS = 2000
#: Lead-in before the onset when the incident has no bundle.
DEFAULT_LEAD_IN = timedelta(minutes=30)
#: How far outside the incident's window `lines_around` may look.
LINES_SLACK = timedelta(hours=2)
#: A template is anomalous when its rate during the incident is this many times its rate before.
SPIKE_RATIO = 3.0
#: Lines that look like a deploy or a configuration change (besides systemd's restart lines).
DEPLOY_LIKE = (
    "%Reloading%",
    "%Reloaded %",
    "%Unpacking %",
    "%Setting up %",
    "%upgraded%",
    "%Installed %",
    "%Pulling %",
    "%Pulled %",
    "%Created container%",
    "%deploy%",
)

events_t = Event.__table__
counts_t = MinuteCount.__table__
service_templates_t = ServiceTemplate.__table__
templates_t = Template.__table__


def _line(text: str | None, n: int = MAX_LINE_CHARS) -> str:
    return clean_line(text or "", n)






@dataclass(frozen=True, slots=True)
class Window:
    """The incident's window: `start` (onset minus lead-in) .. `onset` .. `end`."""

    start: datetime
    onset: datetime
    end: datetime

    @property
    def onset_minute(self) -> datetime:
        """The start of the minute bucket holding the onset (counts are per minute)."""
        return self.onset.replace(second=0, microsecond=0)

    @property
    def before_minutes(self) -> float:
        return max(1.0, (self.onset_minute - self.start).total_seconds() / 60)

    @property
    def during_minutes(self) -> float:
        return max(1.0, (self.end - self.onset_minute).total_seconds() / 60 + 1)

    def to_json(self) -> dict[str, str]:
        return {"start": iso_z(self.start), "onset": iso_z(self.onset), "end": iso_z(self.end)}

    @classmethod
    def of(cls, incident: Incident) -> Window:
        """From the bundle when it has a window, else from the findings (never the clock)."""
        w = (incident.bundle or {}).get("window") or {}
        try:
            return cls(parse_iso(w["start"]), parse_iso(w["onset"]), parse_iso(w["end"]))
        except (KeyError, TypeError, ValueError):
            pass
        if incident.findings:
            onset = min(f.started_at for f in incident.findings)
            end = max(max(f.at for f in incident.findings), incident.last_finding_at)
        else:
            onset, end = incident.opened_at, incident.last_finding_at
        return cls(onset - DEFAULT_LEAD_IN, onset, max(end, onset))


class ToolError(Exception):
    """A tool's refusal with a message for the model (unknown service, time out of range)."""


def _bounded(data: dict[str, Any]) -> dict[str, Any]:
    """Cut `data`'s lists to MAX_ROWS, then from the end until its JSON fits MAX_OUTPUT_CHARS."""
    cut = 0
    for key, value in list(data.items()):
        if isinstance(value, list) and len(value) > MAX_ROWS:
            cut += len(value) - MAX_ROWS
            data[key] = value[:MAX_ROWS]

    def size() -> int:
        return len(json.dumps(data, default=str, ensure_ascii=False))

    while size() > MAX_OUTPUT_CHARS:
        lists = [k for k, v in data.items() if isinstance(v, list) and v]
        if not lists:
            break
        longest = max(lists, key=lambda k: (len(json.dumps(data[k], default=str)), k))
        data[longest].pop()
        cut += 1
    if cut:
        data["truncated"] = data.get("truncated", 0) + cut
    return data


def _tool(name: str) -> Callable[[Callable[..., ToolResult]], Callable[..., ToolResult]]:
    """Make a method total: ToolError and any other exception become an ERROR result."""

    def wrap(method: Callable[..., ToolResult]) -> Callable[..., ToolResult]:
        @functools.wraps(method)
        def inner(self: EvidenceTools, *args: Any, **kwargs: Any) -> ToolResult:
            try:
                return method(self, *args, **kwargs)
            except ToolError as e:
                return ToolResult(name, ToolStatus.ERROR, None, str(e))
            except Exception as e:  # a tool never raises into the crew
                return ToolResult(name, ToolStatus.ERROR, None, f"{type(e).__name__}: {e}")

        return inner

    return wrap


def _ok(name: str, data: dict[str, Any], rows_key: str | None = None) -> ToolResult:
    data = _bounded(data)
    if rows_key is not None and not data.get(rows_key):
        return ToolResult(name, ToolStatus.NO_DATA, data)
    return ToolResult(name, ToolStatus.OK, data)


class EvidenceTools:
    """The evidence tools over one incident, its store and a topology.

    `calls` logs every `run(...)` (name, arguments, result), in order.
    """

    def __init__(self, engine: Engine, topology: Topology, incident: Incident) -> None:
        self.engine = engine
        self.topology = topology
        self.incident = incident
        self.window = Window.of(incident)
        self.calls: list[tuple[str, dict[str, Any], ToolResult]] = []
        self._logged: set[str] | None = None
        self._finding_services = {f.service for f in incident.findings if f.service}

    # -- names -------------------------------------------------------------------------------

    @property
    def declared(self) -> set[str]:
        """Services of the inventory (empty when the topology exposes none)."""
        inventory = getattr(self.topology, "inventory", None)
        return set(inventory.services) if inventory is not None else set()

    def known_services(self) -> set[str]:
        """Declared services, the incident's, and every service that logged in the window."""
        if self._logged is None:
            c = counts_t.c
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(c.service)
                    .where(c.minute >= self.window.start, c.minute <= self.window.end)
                    .distinct()
                )
                self._logged = {r[0] for r in rows}
        bundle_services = set((self.incident.bundle or {}).get("services") or ())
        return self.declared | set(self.incident.services) | bundle_services | self._logged

    def _check(self, service: str, *, graph: bool = False) -> None:
        """Raise ToolError for a name that is neither declared nor seen (with a "did you mean")."""
        known = self.declared if graph else self.known_services()
        if service in known:
            return
        if graph and service in self.known_services():
            raise ToolError(
                f"service {service!r} logs but is not declared in the inventory, "
                "so it has no place in the dependency graph"
            )
        pool = known | (self.known_services() if graph else set())
        raise ToolError(f"unknown service {service!r}{suggest(service, pool)}")

    def incident_services(self) -> list[str]:
        """The services of the incident (the bundle's list when there is one)."""
        svc = set((self.incident.bundle or {}).get("services") or ()) | set(self.incident.services)
        return sorted(svc | self._finding_services)

    def _anomalous(self, service: str) -> bool:
        return service in self._finding_services

    # -- the tools ---------------------------------------------------------------------------

    @_tool("timeline")
    def timeline(self) -> ToolResult:
        """Findings and the first occurrence of each anomalous template per service, in order.

        A template is anomalous when it is WARNING or worse and new in the window,
        behind a finding, or at least SPIKE_RATIO times its earlier rate.
        """
        w = self.window
        services = self.incident_services()
        rows: list[dict[str, Any]] = []
        for f in self.incident.findings:
            rows.append(
                {
                    "at": iso_z(f.started_at),
                    "kind": "finding",
                    "service": f.service,
                    "host": f.host,
                    "detector": f.detector,
                    "finding_kind": f.kind,
                    "severity": f.severity.label,
                    "template_id": f.template_id,
                    "summary": _line(f.summary),
                }
            )
        stats = self._stats(services) if services else {}
        finding_tpls = {(f.service, f.template_id) for f in self.incident.findings}
        wanted: dict[tuple[str, int], dict[str, Any]] = {}
        for (service, tid), s in stats.items():
            if (service, tid) in finding_tpls:
                wanted[(service, tid)] = s
                continue
            if s["max_severity"] < int(Severity.WARNING) or s["during"] == 0:
                continue
            if s["new"] or s["during_rate"] >= SPIKE_RATIO * max(s["before_rate"], 1e-9):
                wanted[(service, tid)] = s
        if wanted:
            e = events_t.c
            with self.engine.connect() as conn:
                first = conn.execute(
                    select(
                        e.service,
                        e.template_id,
                        e.host,
                        func.min(e.ts),
                        func.min(case((e.ts >= w.onset, e.ts))),
                    )
                    .where(
                        e.service.in_(sorted({s for s, _ in wanted})),
                        e.template_id.in_(sorted({t for _, t in wanted})),
                        e.ts >= w.start,
                        e.ts <= w.end,
                    )
                    .group_by(e.service, e.template_id, e.host)
                ).all()
                texts = self._texts(conn, {t for _, t in wanted})
            earliest: dict[tuple[str, int], tuple[datetime, str]] = {}
            for service, tid, host, t_all, t_during in first:
                if (service, tid) not in wanted:
                    continue
                # A template that was there before counts from the onset; a new one from its
                # first line.
                at = t_all if wanted[(service, tid)]["before"] == 0 else t_during
                if at is None:
                    continue
                at = parse_iso(at)
                if (service, tid) not in earliest or at < earliest[(service, tid)][0]:
                    earliest[(service, tid)] = (at, host)
            for (service, tid), (at, host) in earliest.items():
                s = wanted[(service, tid)]
                rows.append(
                    {
                        "at": iso_z(at),
                        "kind": "new_template" if s["new"] else "template",
                        "service": service,
                        "host": host,
                        "severity": Severity(s["max_severity"]).label,
                        "template_id": tid,
                        "template": texts.get(tid, ""),
                        "before": s["before"],
                        "during": s["during"],
                    }
                )
        missing = {r["template_id"] for r in rows if r["kind"] == "finding" and r["template_id"]}
        if missing:
            with self.engine.connect() as conn:
                texts = self._texts(conn, missing)
            for r in rows:
                if r["kind"] == "finding" and r["template_id"] in texts:
                    r["template"] = texts[r["template_id"]]
        rows.sort(
            key=lambda r: (
                r["at"],
                r["kind"] != "finding",
                r["service"] or "",
                r.get("template_id") or 0,
            )
        )
        return _ok("timeline", {"window": w.to_json(), "entries": rows}, "entries")

    @_tool("template_stats")
    def template_stats(self, service: str) -> ToolResult:
        """Per template of `service`: lines before and during the onset, rates, novelty."""
        self._check(service)
        w = self.window
        stats = self._stats([service])
        with self.engine.connect() as conn:
            texts = self._texts(conn, {t for _, t in stats})
        rows = []
        for (_, tid), s in stats.items():
            ratio = None if s["before_rate"] == 0 else round(s["during_rate"] / s["before_rate"], 2)
            rows.append(
                {
                    "template_id": tid,
                    "template": texts.get(tid, ""),
                    "severity": Severity(s["max_severity"]).label,
                    "before": s["before"],
                    "during": s["during"],
                    "before_per_min": round(s["before_rate"], 3),
                    "during_per_min": round(s["during_rate"], 3),
                    "ratio": ratio,
                    "new": s["new"],
                    "first_seen": s["first_seen"],
                    "_sev": s["max_severity"],
                }
            )
        # Most telling first: new, then by severity, then by how much the rate grew.
        rows.sort(
            key=lambda r: (
                not r["new"],
                -r["_sev"],
                -(r["ratio"] if r["ratio"] is not None else (1e9 if r["during"] else 0)),
                -r["during"],
                r["template_id"],
            )
        )
        for r in rows:
            del r["_sev"]
        data = {
            "service": service,
            "window": w.to_json(),
            "before_minutes": round(w.before_minutes, 1),
            "during_minutes": round(w.during_minutes, 1),
            "templates": rows,
        }
        return _ok("template_stats", data, "templates")

    @_tool("lines_around")
    def lines_around(
        self,
        at: str | datetime,
        service: str | None = None,
        minutes: int = 5,
        limit: int = 30,
    ) -> ToolResult:
        """Up to `limit` lines within `minutes` of `at` (WARNING+ and nearest first, then
        in time order), at most 3 per template so one flood does not hide the rest."""
        try:
            moment = parse_iso(at)
        except ValueError as e:
            raise ToolError(f"`at` is not an ISO 8601 time ({e}); e.g. 2026-03-03T10:00:00Z") from e
        if not 1 <= minutes <= 60:
            raise ToolError(f"`minutes` must be between 1 and 60, got {minutes}")
        if not 1 <= limit <= 100:
            raise ToolError(f"`limit` must be between 1 and 100, got {limit}")
        w = self.window
        if not w.start - LINES_SLACK <= moment <= w.end + LINES_SLACK:
            raise ToolError(
                f"{iso_z(moment)} is outside the incident's window "
                f"({iso_z(w.start)} .. {iso_z(w.end)}, give or take 2 h)"
            )
        if service is not None:
            self._check(service)
        lo, hi = moment - timedelta(minutes=minutes), moment + timedelta(minutes=minutes)
        e = events_t.c
        where = [e.ts >= lo, e.ts <= hi]
        if service is not None:
            where.append(e.service == service)
        message = func.substr(e.message, 1, 4 * MAX_LINE_CHARS).label("message")
        base = select(e.id, e.ts, e.host, e.service, e.severity, e.template_id, message).where(
            *where
        )
        with self.engine.connect() as conn:
            # The severe lines, then the nearest ones after and before: bounded scans.
            severe = conn.execute(
                base.where(e.severity >= int(Severity.WARNING)).order_by(e.ts).limit(SCAN_ROWS)
            ).all()
            after = conn.execute(base.where(e.ts >= moment).order_by(e.ts).limit(limit)).all()
            before = conn.execute(
                base.where(e.ts < moment).order_by(e.ts.desc()).limit(limit)
            ).all()
        seen: set[int] = set()
        rows = []
        for r in (*severe, *after, *before):
            if r.id not in seen:
                seen.add(r.id)
                rows.append(r)

        def rank(r: Any) -> tuple:
            warn = r.severity >= int(Severity.WARNING)
            return (not warn, abs((parse_iso(r.ts) - moment).total_seconds()), r.id)

        per_template: dict[int, int] = {}
        chosen = []
        for r in sorted(rows, key=rank):
            if per_template.get(r.template_id, 0) >= 3:
                continue
            per_template[r.template_id] = per_template.get(r.template_id, 0) + 1
            chosen.append(r)
            if len(chosen) >= limit:
                break
        chosen.sort(key=lambda r: (r.ts, r.id))
        data = {
            "at": iso_z(moment),
            "service": service,
            "minutes": minutes,
            "lines": [
                {
                    "ts": iso_z(parse_iso(r.ts)),
                    "host": r.host,
                    "service": r.service,
                    "severity": Severity(r.severity).label,
                    "template_id": r.template_id,
                    "line": _line(r.message),
                }
                for r in chosen
            ],
        }
        return _ok("lines_around", data, "lines")

    @_tool("upstream")
    def upstream(self, service: str) -> ToolResult:
        """What `service` needs, transitively, nearest first, with depth and path."""
        self._check(service, graph=True)
        reached = self._reach(service, "upstream")
        return _ok("upstream", {"service": service, "upstream": reached}, "upstream")

    @_tool("blast_radius")
    def blast_radius(self, service: str) -> ToolResult:
        """What needs `service`, transitively, nearest first; `anomalous` marks those with
        findings in this incident."""
        self._check(service, graph=True)
        reached = self._reach(service, "blast_radius")
        return _ok("blast_radius", {"service": service, "blast_radius": reached}, "blast_radius")

    @_tool("path_between")
    def path_between(self, a: str, b: str) -> ToolResult:
        """The shortest DEPENDS_ON / CALLS chain from `a` to `b`, else from `b` to `a`."""
        self._check(a, graph=True)
        self._check(b, graph=True)
        if a == b:
            return _ok("path_between", {"a": a, "b": b, "path": [a], "via": [], "reads": a})
        for src, dst in ((a, b), (b, a)):
            reached = {r["service"]: r for r in self._reach(src, "upstream")}
            if dst in reached:
                path, via = reached[dst]["path"], reached[dst]["via"]
                reads = path[0] + "".join(
                    f" -{rel}-> {node}" for rel, node in zip(via, path[1:], strict=True)
                )
                return _ok(
                    "path_between",
                    {"a": a, "b": b, "path": path, "via": via, "reads": reads},
                )
        return ToolResult(
            "path_between",
            ToolStatus.NO_DATA,
            {"a": a, "b": b, "path": [], "note": "neither depends on or calls the other"},
        )

    @_tool("co_hosted")
    def co_hosted(self, service: str) -> ToolResult:
        """Per host of `service`, the other services on it and whether they have findings."""
        self._check(service, graph=True)
        hosts = sorted(self.topology.hosts_of(service))
        rows = [
            {
                "host": h,
                "services": [
                    {"service": s, "anomalous": self._anomalous(s)}
                    for s in sorted(self.topology.services_on(h) - {service})
                ],
            }
            for h in hosts
        ]
        rows = [r for r in rows if r["services"]]
        return _ok("co_hosted", {"service": service, "hosts": rows}, "hosts")

    @_tool("restarts")
    def restarts(self, service: str | None = None) -> ToolResult:
        """Restart, stop and deploy-like lines in the window: of `service` (or of every
        service of the incident) and of systemd on their hosts."""
        if service is not None:
            self._check(service)
            services = [service]
        else:
            services = self.incident_services()
        hosts: set[str] = set()
        for s in services:
            hosts |= self.topology.hosts_of(s)
        hosts |= {
            f.host
            for f in self.incident.findings
            if f.host and (service is None or f.service == service)
        }
        w = self.window
        e = events_t.c
        who = []
        if services:
            who.append(e.service.in_(services))
        if hosts:
            who.append(e.host.in_(sorted(hosts)) & e.service.in_(INIT_SERVICES))
        if not who:
            return ToolResult("restarts", ToolStatus.NO_DATA, {"service": service, "events": []})
        message = func.substr(e.message, 1, 4 * MAX_LINE_CHARS).label("message")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e.ts, e.host, e.service, message)
                .where(
                    e.ts >= w.start,
                    e.ts <= w.end,
                    or_(*who),
                    or_(*(e.message.like(p) for p in (*RESTART_LIKE, *DEPLOY_LIKE))),
                )
                .order_by(e.ts, e.id)
                .limit(MAX_ROWS * 5)
            ).all()
        events = []
        for r in rows:
            text = r.message or ""
            kind = "deploy" if any(p.strip("%") in text for p in DEPLOY_LIKE) else "restart"
            events.append(
                {
                    "ts": iso_z(parse_iso(r.ts)),
                    "host": r.host,
                    "service": r.service,
                    "kind": kind,
                    "line": _line(text),
                }
            )
        data = {"service": service, "window": w.to_json(), "events": events}
        return _ok("restarts", data, "events")

    # -- dispatch ----------------------------------------------------------------------------

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

    # -- helpers -----------------------------------------------------------------------------

    def _stats(self, services: list[str]) -> dict[tuple[str, int], dict[str, Any]]:
        """(service, template) -> before / during counts and rates, severity, novelty."""
        w = self.window
        c = counts_t.c
        st = service_templates_t.c
        # The minute bucket holding the onset counts as "during".
        split = w.onset_minute
        before = func.sum(case((c.minute < split, c.count), else_=0))
        during = func.sum(case((c.minute >= split, c.count), else_=0))
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.service, c.template_id, before, during, func.max(c.severity))
                .where(c.service.in_(services), c.minute >= w.start, c.minute <= w.end)
                .group_by(c.service, c.template_id)
            ).all()
            firsts = {
                (r.service, r.template_id): parse_iso(r.first_seen)
                for r in conn.execute(
                    select(st.service, st.template_id, st.first_seen).where(
                        st.service.in_(services)
                    )
                )
            }
        out = {}
        for service, tid, b, d, sev in rows:
            first = firsts.get((service, tid))
            out[(service, tid)] = {
                "before": int(b or 0),
                "during": int(d or 0),
                "before_rate": int(b or 0) / w.before_minutes,
                "during_rate": int(d or 0) / w.during_minutes,
                "max_severity": int(sev),
                "new": first is not None and first >= w.start,
                "first_seen": iso_z(first) if first else None,
            }
        return out

    def _texts(self, conn: Any, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = conn.execute(
            select(templates_t.c.id, templates_t.c.template).where(
                templates_t.c.id.in_(sorted(ids))
            )
        )
        return {r.id: _line(r.template) for r in rows}

    def _reach(self, service: str, direction: str) -> list[dict[str, Any]]:
        """Breadth-first over the inventory's DEPENDS_ON / CALLS edges, with depth and path.

        Falls back to the topology's names (without paths) when it exposes no inventory.
        """
        inventory = getattr(self.topology, "inventory", None)
        if inventory is None:
            names = (
                self.topology.upstream(service)
                if direction == "upstream"
                else self.topology.blast_radius(service)
            )
            return [
                {
                    "service": s,
                    "depth": None,
                    "path": [],
                    "via": [],
                    "anomalous": self._anomalous(s),
                }
                for s in names
            ]
        adj: dict[str, list[tuple[str, str]]] = {}
        for edge in inventory.impact_edges():
            src, dst = (
                (edge.source, edge.target)
                if direction == "upstream"
                else (edge.target, edge.source)
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
                "anomalous": self._anomalous(s),
            }
            for s, (nodes, vias) in paths.items()
            if s != service
        ]
        out.sort(key=lambda r: (r["depth"], r["service"]))
        return out


# -- the registry ------------------------------------------------------------------------------

ServiceName = Annotated[
    str,
    Field(
        min_length=1, max_length=255, description="a service name as the logs or inventory spell it"
    ),
]


class _Args(Strict):
    """Tool arguments: unknown keys are refused (the model is told which)."""


class NoArgs(_Args):
    pass


class ServiceArgs(_Args):
    service: ServiceName


class OptionalServiceArgs(_Args):
    service: ServiceName | None = None


class LinesAroundArgs(_Args):
    at: Annotated[str, Field(description="ISO 8601 time, e.g. 2026-03-03T10:00:00Z")]
    service: ServiceName | None = None
    minutes: Annotated[
        int, Field(ge=1, le=60, description="look this many minutes either side")
    ] = 5
    limit: Annotated[int, Field(ge=1, le=100, description="at most this many lines")] = 30


class PathArgs(_Args):
    a: ServiceName
    b: ServiceName


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool as a model sees it: a name, a description, typed arguments, and the call."""

    name: str
    description: str
    args: type[BaseModel]
    call: Callable[[EvidenceTools, Any], ToolResult]

    def invoke(self, tools: EvidenceTools, arguments: Mapping[str, Any]) -> ToolResult:
        """Validate `arguments` and call; a validation error is an ERROR result, never raised."""
        try:
            parsed = self.args.model_validate(dict(arguments))
        except ValidationError as e:
            detail = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in e.errors(include_url=False)
            )
            return ToolResult(
                self.name, ToolStatus.ERROR, None, f"invalid arguments for {self.name}: {detail}"
            )
        except Exception as e:  # arguments that are not even a mapping
            return ToolResult(self.name, ToolStatus.ERROR, None, f"invalid arguments: {e}")
        return self.call(tools, parsed)

    def schema(self) -> dict[str, Any]:
        """JSON schema of the arguments (for a model's function-calling interface)."""
        return self.args.model_json_schema()


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "timeline",
            "The incident's timeline: every finding and the first occurrence of each anomalous "
            "log template (new, spiking, or behind a finding) per service, oldest first.",
            NoArgs,
            lambda t, a: t.timeline(),
        ),
        ToolSpec(
            "template_stats",
            "Log templates of one service with line counts before and during the incident, "
            "rates per minute, the during/before ratio, and whether the template is new.",
            ServiceArgs,
            lambda t, a: t.template_stats(a.service),
        ),
        ToolSpec(
            "lines_around",
            "Raw (redacted) log lines within `minutes` of a moment, warnings and errors first, "
            "optionally of one service.",
            LinesAroundArgs,
            lambda t, a: t.lines_around(a.at, a.service, a.minutes, a.limit),
        ),
        ToolSpec(
            "upstream",
            "What a service depends on or calls, transitively, nearest first, with the path; "
            "`anomalous` marks services with findings in this incident.",
            ServiceArgs,
            lambda t, a: t.upstream(a.service),
        ),
        ToolSpec(
            "blast_radius",
            "What depends on or calls a service, transitively (what its failure takes down), "
            "nearest first, with the path; `anomalous` marks services with findings.",
            ServiceArgs,
            lambda t, a: t.blast_radius(a.service),
        ),
        ToolSpec(
            "path_between",
            "The dependency chain between two services (a -> b, else b -> a), or no_data.",
            PathArgs,
            lambda t, a: t.path_between(a.a, a.b),
        ),
        ToolSpec(
            "co_hosted",
            "Other services on the same host(s) as a service, and whether they have findings.",
            ServiceArgs,
            lambda t, a: t.co_hosted(a.service),
        ),
        ToolSpec(
            "restarts",
            "Restarts, stops, unit failures and deploy-like lines during the incident window, "
            "of one service or of all the incident's services (and systemd on their hosts).",
            OptionalServiceArgs,
            lambda t, a: t.restarts(a.service),
        ),
    )
}


def result_text(result: ToolResult, max_chars: int = MAX_OUTPUT_CHARS + 500) -> str:
    """The compact JSON of `result` as a model is given it, at most `max_chars` characters."""
    text = json.dumps(result.to_json(), ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
