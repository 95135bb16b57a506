"""Build the context bundle of an incident: what the investigation reads, bounded in size.

`build_bundle` reads the store (`logvigil.store.evidence`) for the incident's
window and returns a `ContextBundle` (`context.py`):

- `window`: from the first anomaly minus `lead_in_minutes` to `now`; `onset`
  splits it into "before" and "during";
- `findings`: every finding, summary and evidence text redacted;
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
findings. Every cut is counted in `trimmed`. The trimming works on the JSON
form, the one the bound is about.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from detector.incidents.context import (
    BundleFinding,
    BundleWindow,
    ContextBundle,
    FirstSeenTemplate,
    Neighbourhood,
    RankedCandidate,
    RestartLine,
    RootSection,
    SampleLine,
    TemplateActivity,
)
from detector.incidents.grouping import finding_services
from detector.incidents.model import BundleConfig
from detector.incidents.root import RootRanking
from detector.incidents.topology import Topology
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.redact import clean_line, redact
from logvigil.core.timeutil import floor_minute
from logvigil.store import evidence
from logvigil.store.evidence import RESTART_LIKE, RESTART_WORDS

#: Summaries of findings are cut to this many characters.
MAX_SUMMARY_CHARS = 500
#: Evidence of one finding larger than this (JSON bytes) is replaced by a note.
MAX_EVIDENCE_BYTES = 1024


def encoded_size(bundle: dict[str, Any]) -> int:
    """Bytes of a bundle's JSON form (`ContextBundle.to_json()`) as the column stores it."""
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
) -> ContextBundle:
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
    bundle = ContextBundle(
        incident_id=incident_id,
        title=redact(title, emails=emails),
        window=BundleWindow(
            start=start,
            onset=onset,
            end=end,
            before_minutes=limits.lead_in_minutes,
            during_minutes=round((end - onset).total_seconds() / 60, 1),
        ),
        services=tuple(svc),
        hosts=tuple(sorted(incident_hosts)),
        findings=tuple(_quoted(f, emails) for f in findings),
        root=_root(ranking),
        templates=_templates(conn, svc, start, onset, end, limits, text),
        first_seen=first_seen,
        samples=_samples(
            conn,
            svc,
            host_level_hosts,
            start,
            end,
            finding_tpls,
            {f.template_id for f in first_seen},
            limits,
            text,
        ),
        neighbourhood={s: Neighbourhood.from_json(topology.neighbourhood(s)) for s in svc},
        restarts=_restarts(conn, svc, sorted(incident_hosts), start, end, limits, text),
    )
    bounded = bundle.to_json()
    _enforce_bound(bounded, limits.max_bytes)
    bounded["samples"].sort(key=lambda s: (s["ts"], s["service"]))
    return ContextBundle.from_json(bounded)


def _quoted(f: Finding, emails: bool) -> BundleFinding:
    evidence: dict[str, Any] = _redacted(json.loads(json.dumps(f.evidence, default=str)), emails)
    if len(json.dumps(evidence).encode()) > MAX_EVIDENCE_BYTES:
        evidence = {"note": "evidence larger than the bundle allows"}
    return BundleFinding(
        detector=f.detector,
        service=f.service,
        host=f.host,
        at=f.at,
        started_at=f.started_at,
        severity=f.severity,
        kind=f.kind,
        template_id=f.template_id,
        summary=clean_line(f.summary, MAX_SUMMARY_CHARS, emails=emails),
        evidence=evidence,
    )


def _redacted(value: Any, emails: bool) -> Any:
    """A JSON value with every string in it redacted (an error text a detector quotes)."""
    if isinstance(value, str):
        return redact(value, emails=emails)
    if isinstance(value, list):
        return [_redacted(v, emails) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v, emails) for k, v in value.items()}
    return value


def _root(ranking: RootRanking) -> RootSection:
    root = ranking.root
    return RootSection(
        service=root.service if root else None,
        host=root.host if root else None,
        candidates=tuple(RankedCandidate.from_json(c.to_json()) for c in ranking.candidates),
        blast_radius=tuple(ranking.blast_radius),
    )


def _templates(
    conn: Connection,
    services: list[str],
    start: datetime,
    onset: datetime,
    end: datetime,
    limits: BundleConfig,
    text: Callable[[str], str],
) -> dict[str, tuple[TemplateActivity, ...]]:
    # The minute bucket holding the onset counts as "during": its lines include the
    # first anomalous ones. A minute bucket starting at `end` lies after `end`.
    counts = evidence.template_counts(
        conn, services, start=start, split=floor_minute(onset), stop=end
    )
    per: dict[str, list[evidence.TemplateCount]] = {}
    for row in counts:
        per.setdefault(row.service, []).append(row)
    chosen: dict[str, list[evidence.TemplateCount]] = {}
    for service, rows in per.items():
        rows.sort(key=lambda t: (-t.during, -t.max_severity, -t.before, t.template_id))
        chosen[service] = rows[: limits.max_templates_per_service]
    texts = evidence.template_texts(conn, (t.template_id for rows in chosen.values() for t in rows))
    return {
        service: tuple(
            TemplateActivity(
                template_id=t.template_id,
                template=text(texts[t.template_id]) if t.template_id in texts else "",
                severity=t.max_severity,
                before=t.before,
                during=t.during,
            )
            for t in chosen[service]
        )
        for service in sorted(chosen)
    }


def _first_seen(
    conn: Connection,
    services: list[str],
    start: datetime,
    end: datetime,
    limits: BundleConfig,
    text: Callable[[str], str],
) -> tuple[FirstSeenTemplate, ...]:
    rows = evidence.first_seen_between(conn, services, start, end, limits.max_first_seen)
    texts = evidence.template_texts(conn, (r.template_id for r in rows))
    return tuple(
        FirstSeenTemplate(
            service=r.service,
            template_id=r.template_id,
            template=text(texts[r.template_id]) if r.template_id in texts else "",
            first_seen=r.first_seen,
            count=r.count,
            severity=r.max_severity,
        )
        for r in rows
    )


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
) -> tuple[SampleLine, ...]:
    """Sample lines in priority order (the caller trims from the end, then sorts by time):
    the store chooses them (`evidence.sample_lines`), so only the kept lines are read."""
    rows = evidence.sample_lines(
        conn,
        services=services,
        hosts=hosts,
        start=start,
        end=end,
        min_severity=Severity.WARNING,
        first_tpls=finding_tpls,
        then_tpls=first_seen_tpls - finding_tpls,
        per_template=limits.max_samples_per_template,
        limit=limits.max_sample_lines,
        line_chars=limits.max_line_chars,
    )
    return tuple(
        SampleLine(r.ts, r.host, r.service, r.severity, r.template_id, text(r.message))
        for r in rows
    )


def _restarts(
    conn: Connection,
    services: list[str],
    hosts: list[str],
    start: datetime,
    end: datetime,
    limits: BundleConfig,
    text: Callable[[str], str],
) -> tuple[RestartLine, ...]:
    rows = evidence.restart_lines(
        conn,
        services=services,
        hosts=hosts,
        start=start,
        end=end,
        patterns=RESTART_LIKE,
        limit=limits.max_restarts * 5,
        line_chars=limits.max_line_chars,
    )
    lines = [r for r in rows if RESTART_WORDS.search(r.message)][: limits.max_restarts]
    return tuple(RestartLine(r.ts, r.host, r.service, text(r.message)) for r in lines)


# -- the bound -------------------------------------------------------------------------------


def _enforce_bound(bundle: dict[str, Any], max_bytes: int) -> None:
    """Trim the JSON form `bundle` in place until `encoded_size(bundle) <= max_bytes`."""
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
