"""The context bundle: what the investigation reads about an incident, bounded in size.

`build_bundle` reads the store (SQLAlchemy Core, the same on the three
backends) for the incident's window and returns a JSON-able dict:

- `window`: from the first anomaly minus `lead_in_minutes` to `now`; `onset`
  splits it into "before" and "during";
- `findings`: every finding, summary redacted;
- `root`: the suspected-root ranking with its score breakdown;
- `templates`: per service the busiest templates of the window with their
  line counts before and during the onset;
- `first_seen`: templates the incident's services logged for the first time
  in the window;
- `samples`: redacted, printable sample lines (at most `max_line_chars`
  each): lines of the findings' templates first, then of first-seen
  templates, then the most severe, at most `max_samples_per_template` each;
- `neighbourhood`: each service's place in the graph;
- `restarts`: systemd start/stop/restart lines of the services or their hosts;
- `trimmed`: what was cut to respect the bound.

The bound is on the JSON text as stored (`json.dumps` with its defaults, as
SQLAlchemy's JSON type writes it): at most `max_bytes`. When the bundle is
larger, the least valuable parts are trimmed first (extra samples, restarts,
first-seen templates, template counts, the neighbourhood, lower root
candidates), then whole sections, and finally finding evidence and the last
findings. Every cut is counted in `trimmed`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from detector.incidents.grouping import finding_services
from detector.incidents.model import BundleConfig
from detector.incidents.root import RootRanking
from detector.incidents.topology import Topology
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.redact import clean_line
from logvigil.store.schema import Event, MinuteCount, ServiceTemplate, Template

BUNDLE_VERSION = 1
#: Summaries of findings are cut to this many characters.
MAX_SUMMARY_CHARS = 500
#: Evidence of one finding larger than this (JSON bytes) is replaced by a note.
MAX_EVIDENCE_BYTES = 1024
#: Rows read per sample query: enough to choose diverse lines, bounded whatever the volume.
SAMPLE_SCAN_ROWS = 2000
#: Services whose restarts are reported as seen from systemd.
INIT_SERVICES = ("systemd", "init")
#: Lines that mark a (re)start or stop, as systemd writes them.
RESTART_LIKE = (
    "%Started %",
    "%Starting %",
    "%Stopped %",
    "%Stopping %",
    "%Deactivated successfully%",
    "%Scheduled restart job%",
    "%Main process exited%",
    "%Failed with result%",
)
_RESTART_RE = re.compile(
    r"\b(Started|Starting|Stopped|Stopping|Deactivated successfully|Scheduled restart job|"
    r"Main process exited|Failed with result)\b"
)

events_t = Event.__table__
counts_t = MinuteCount.__table__
service_templates_t = ServiceTemplate.__table__
templates_t = Template.__table__


def encoded_size(bundle: dict[str, Any]) -> int:
    """Bytes of the bundle as the JSON column stores it."""
    return len(json.dumps(bundle).encode())


def build_bundle(
    conn: Connection,
    *,
    incident_id: int,
    title: str,
    findings: Sequence[Finding],
    ranking: RootRanking,
    topology: Topology,
    now: datetime,
    limits: BundleConfig,
) -> dict[str, Any]:
    """The bounded context bundle of an incident made of `findings` (at least one).

    Raises sqlalchemy errors from the store unchanged (the caller's transaction fails).
    """
    onset = min(f.started_at for f in findings)
    start = onset - timedelta(minutes=limits.lead_in_minutes)
    end = max(now, max(f.at for f in findings))
    services: set[str] = set()
    for f in findings:
        services |= finding_services(f, topology)
    host_level_hosts = sorted({f.host for f in findings if f.service is None and f.host})
    incident_hosts: set[str] = set(host_level_hosts)
    for f in findings:
        if f.host:
            incident_hosts.add(f.host)
        elif f.service:
            incident_hosts |= topology.hosts_of(f.service)
    svc = sorted(services | {f.service for f in findings if f.service})
    cut = limits.max_line_chars
    emails = limits.redact_emails

    def text(value: str) -> str:
        return clean_line(value, cut, emails=emails)

    first_seen = _first_seen(conn, svc, start, end, limits, text)
    finding_tpls = {f.template_id for f in findings if f.template_id is not None}
    bundle: dict[str, Any] = {
        "version": BUNDLE_VERSION,
        "incident": {"id": incident_id, "title": title},
        "window": {
            "start": start.isoformat(),
            "onset": onset.isoformat(),
            "end": end.isoformat(),
            "before_minutes": limits.lead_in_minutes,
            "during_minutes": round((end - onset).total_seconds() / 60, 1),
        },
        "services": svc,
        "hosts": sorted(incident_hosts),
        "findings": [_finding_json(f, emails) for f in findings],
        "root": {
            **ranking.to_json(),
        },
        "templates": _templates(conn, svc, start, onset, end, limits, text),
        "first_seen": first_seen,
        "samples": _samples(
            conn,
            svc,
            host_level_hosts,
            start,
            end,
            finding_tpls,
            {r["template_id"] for r in first_seen},
            limits,
            text,
        ),
        "neighbourhood": {s: topology.neighbourhood(s) for s in svc},
        "restarts": _restarts(conn, svc, sorted(incident_hosts), start, end, limits, text),
        "trimmed": {},
    }
    _enforce_bound(bundle, limits.max_bytes)
    bundle["samples"].sort(key=lambda s: (s["ts"], s["service"]))
    return bundle


def _finding_json(f: Finding, emails: bool) -> dict[str, Any]:
    evidence: Any = dict(f.evidence)
    if len(json.dumps(evidence, default=str).encode()) > MAX_EVIDENCE_BYTES:
        evidence = {"note": "evidence larger than the bundle allows"}
    return {
        "detector": f.detector,
        "service": f.service,
        "host": f.host,
        "at": f.at.isoformat(),
        "started_at": f.started_at.isoformat(),
        "severity": f.severity.label,
        "kind": f.kind,
        "template_id": f.template_id,
        "summary": clean_line(f.summary, MAX_SUMMARY_CHARS, emails=emails),
        "evidence": json.loads(json.dumps(evidence, default=str)),
    }


def _template_texts(conn: Connection, ids: set[int], text: Callable[[str], str]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(templates_t.c.id, templates_t.c.template).where(templates_t.c.id.in_(sorted(ids)))
    )
    return {r.id: text(r.template) for r in rows}


def _templates(
    conn: Connection,
    services: list[str],
    start: datetime,
    onset: datetime,
    end: datetime,
    limits: BundleConfig,
    text: Callable[[str], str],
) -> dict[str, list[dict[str, Any]]]:
    if not services:
        return {}
    c = counts_t.c
    # The minute bucket holding the onset counts as "during": its lines include the
    # first anomalous ones.
    onset_minute = onset.replace(second=0, microsecond=0)
    before = func.sum(case((c.minute < onset_minute, c.count), else_=0))
    during = func.sum(case((c.minute >= onset_minute, c.count), else_=0))
    rows = conn.execute(
        select(c.service, c.template_id, before, during, func.max(c.severity))
        # A minute bucket starting at `end` lies after `end`: exclude it.
        .where(c.service.in_(services), c.minute >= start, c.minute < end)
        .group_by(c.service, c.template_id)
    ).all()
    per: dict[str, list[tuple[int, int, int, int]]] = {}
    for service, tid, b, d, sev in rows:
        per.setdefault(service, []).append((tid, int(b or 0), int(d or 0), int(sev)))
    chosen: dict[str, list[tuple[int, int, int, int]]] = {}
    for service, items in per.items():
        items.sort(key=lambda t: (-t[2], -t[3], -t[1], t[0]))
        chosen[service] = items[: limits.max_templates_per_service]
    texts = _template_texts(conn, {t[0] for items in chosen.values() for t in items}, text)
    return {
        service: [
            {
                "template_id": tid,
                "template": texts.get(tid, ""),
                "severity": Severity(sev).label,
                "before": b,
                "during": d,
            }
            for tid, b, d, sev in chosen[service]
        ]
        for service in sorted(chosen)
    }


def _first_seen(
    conn: Connection,
    services: list[str],
    start: datetime,
    end: datetime,
    limits: BundleConfig,
    text: Callable[[str], str],
) -> list[dict[str, Any]]:
    if not services:
        return []
    st = service_templates_t.c
    rows = conn.execute(
        select(st.service, st.template_id, st.first_seen, st.count, st.max_severity)
        .where(st.service.in_(services), st.first_seen >= start, st.first_seen <= end)
        .order_by(st.max_severity.desc(), st.first_seen, st.service, st.template_id)
        .limit(limits.max_first_seen)
    ).all()
    texts = _template_texts(conn, {r.template_id for r in rows}, text)
    return [
        {
            "service": r.service,
            "template_id": r.template_id,
            "template": texts.get(r.template_id, ""),
            "first_seen": r.first_seen.isoformat(),
            "count": int(r.count),
            "severity": Severity(r.max_severity).label,
        }
        for r in sorted(rows, key=lambda r: (r.first_seen, r.service, r.template_id))
    ]


def _samples(
    conn: Connection,
    services: list[str],
    hosts: list[str],
    start: datetime,
    end: datetime,
    finding_tpls: set[int],
    first_seen_tpls: set[int],
    limits: BundleConfig,
    text: Callable[[str], str],
) -> list[dict[str, Any]]:
    """Sample lines in priority order (the caller trims from the end, then sorts by time)."""
    if not services and not hosts:
        return []
    e = events_t.c
    who = []
    if services:
        who.append(e.service.in_(services))
    if hosts:
        who.append(e.host.in_(hosts))
    interesting = [e.severity >= int(Severity.WARNING)]
    if finding_tpls | first_seen_tpls:
        interesting.append(e.template_id.in_(sorted(finding_tpls | first_seen_tpls)))
    # Read a bounded prefix of each line: redaction then runs on at most 4 x the cut.
    message = func.substr(e.message, 1, 4 * limits.max_line_chars).label("message")
    rows = conn.execute(
        select(e.ts, e.host, e.service, e.severity, e.template_id, message)
        .where(e.ts >= start, e.ts <= end, or_(*who), or_(*interesting))
        .order_by(e.ts, e.id)
        .limit(SAMPLE_SCAN_ROWS)
    ).all()

    def rank(r: Any) -> tuple:
        klass = 0 if r.template_id in finding_tpls else 1 if r.template_id in first_seen_tpls else 2
        return (klass, -r.severity, r.ts)

    out: list[dict[str, Any]] = []
    per_template: dict[int, int] = {}
    for r in sorted(rows, key=rank):
        if per_template.get(r.template_id, 0) >= limits.max_samples_per_template:
            continue
        per_template[r.template_id] = per_template.get(r.template_id, 0) + 1
        out.append(
            {
                "ts": r.ts.isoformat(),
                "host": r.host,
                "service": r.service,
                "severity": Severity(r.severity).label,
                "template_id": r.template_id,
                "line": text(r.message or ""),
            }
        )
        if len(out) >= limits.max_sample_lines:
            break
    return out


def _restarts(
    conn: Connection,
    services: list[str],
    hosts: list[str],
    start: datetime,
    end: datetime,
    limits: BundleConfig,
    text: Callable[[str], str],
) -> list[dict[str, Any]]:
    e = events_t.c
    who = []
    if services:
        who.append(e.service.in_(services))
    if hosts:
        who.append(and_(e.host.in_(hosts), e.service.in_(INIT_SERVICES)))
    if not who:
        return []
    message = func.substr(e.message, 1, 4 * limits.max_line_chars).label("message")
    rows = conn.execute(
        select(e.ts, e.host, e.service, message)
        .where(
            e.ts >= start,
            e.ts <= end,
            or_(*who),
            or_(*(e.message.like(p) for p in RESTART_LIKE)),
        )
        .order_by(e.ts, e.id)
        .limit(limits.max_restarts * 5)
    ).all()
    out = []
    for r in rows:
        if _RESTART_RE.search(r.message or ""):
            out.append(
                {
                    "ts": r.ts.isoformat(),
                    "host": r.host,
                    "service": r.service,
                    "line": text(r.message),
                }
            )
            if len(out) >= limits.max_restarts:
                break
    return out


# -- the bound -------------------------------------------------------------------------------


def _enforce_bound(bundle: dict[str, Any], max_bytes: int) -> None:
    """Trim `bundle` in place until `encoded_size(bundle) <= max_bytes`."""
    trimmed: dict[str, int] = bundle["trimmed"]

    def over() -> bool:
        return encoded_size(bundle) > max_bytes

    def note(what: str, n: int = 1) -> None:
        trimmed[what] = trimmed.get(what, 0) + n

    def shrink(section: str, floor: int) -> None:
        items = bundle[section]
        while len(items) > floor and over():
            # Drop a chunk proportional to the excess, one item when close.
            excess = encoded_size(bundle) - max_bytes
            per_item = max(1, len(json.dumps(items).encode()) // max(1, len(items)))
            n = max(1, min(len(items) - floor, excess // per_item // 2))
            del items[len(items) - n :]
            note(section, n)

    def shrink_templates(floor: int) -> None:
        per = bundle["templates"]
        while over():
            longest = max(per, key=lambda s: (len(per[s]), s), default=None)
            if longest is None or len(per[longest]) <= floor:
                return
            per[longest].pop()
            note("templates")
            if not per[longest]:
                del per[longest]

    def shrink_neighbourhood(keep: set[str]) -> None:
        hood = bundle["neighbourhood"]
        for name in sorted(hood, reverse=True):
            if not over():
                return
            if name not in keep:
                del hood[name]
                note("neighbourhood")

    def shrink_candidates(floor: int) -> None:
        cands = bundle["root"]["candidates"]
        while len(cands) > floor and over():
            cands.pop()
            note("root_candidates")

    root_service = (bundle["root"].get("root") or {}).get("service")
    steps: list[Callable[[], None]] = [
        lambda: shrink("samples", 10),
        lambda: shrink("restarts", 5),
        lambda: shrink("first_seen", 5),
        lambda: shrink_templates(3),
        lambda: shrink_neighbourhood({root_service} if root_service else set()),
        lambda: shrink_candidates(3),
        lambda: shrink("samples", 0),
        lambda: shrink("restarts", 0),
        lambda: shrink("first_seen", 0),
        lambda: shrink_templates(0),
        lambda: shrink_neighbourhood(set()),
        lambda: shrink_candidates(1),
        _drop_evidence(bundle, note),
        lambda: shrink("findings", 1),
        lambda: shrink_candidates(0),
    ]
    for step in steps:
        if not over():
            return
        step()
    if over():  # only a pathological title or finding can get here
        bundle["findings"] = []
        bundle["root"] = {"root": bundle["root"].get("root"), "candidates": []}
        note("everything")


def _drop_evidence(bundle: dict[str, Any], note: Callable[[str, int], None]) -> Callable[[], None]:
    def step() -> None:
        for f in bundle["findings"]:
            if f.get("evidence"):
                f["evidence"] = {}
                note("evidence", 1)

    return step
