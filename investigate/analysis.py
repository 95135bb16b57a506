"""The deterministic analysis of an incident: hypotheses, impact, evidence, actions.

`analyse(incident, tools)` needs no model and is complete on its own: the
report built from it (`Analysis.to_report`) is what is stored when no model
is configured, or when the model fails.

Hypotheses reuse `detector.incidents.root.rank_roots` (host-level 100,
dependants up to 40, primitive 30, earliest up to 20) over the topology of
today, with one correction: a messenger (`kernel`, `systemd`) that reports a
primitive about another service on its host (the OOM killer's "Killed
process 2811 (postgres)") is folded into that victim, so the victim, not the
kernel, is the hypothesis.

Confidence is calibrated from independent signals of the best hypothesis:

    0.35 base + 0.25 a primitive + 0.15 the earliest anomaly
    + 0.20 x share of the other subjects upstream of which it sits
    + 0.30 host-level;  - 0.20 when the runner-up is within 10 % of its score;
    capped at 0.95.

"No root cause found" is answered when no hypothesis is supported: the best
one's only evidence is a rate spike of a known template (no primitive, no
dependant, not new), or the two best tie without anything to tell them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from detector.detectors.primitive import MESSENGERS
from detector.incidents.model import Incident
from detector.incidents.root import (
    PRIMITIVE_KINDS,
    W_EARLIEST,
    RootCandidate,
    is_primitive,
    rank_roots,
    root_blast_radius,
)
from investigate.model import (
    EvidenceItem,
    Hypothesis,
    ImpactItem,
    Report,
    RootCause,
    TimelineEntry,
    ToolResult,
    ToolStatus,
)
from investigate.tools import EvidenceTools
from logvigil.core.findings import Finding
from logvigil.core.redact import clean_line
from logvigil.core.timeutil import iso_z, parse_iso

#: Detectors whose findings alone do not name a cause.
SPIKE_DETECTORS = frozenset({"error_spike"})
#: At most this many evidence items, timeline entries, samples per item.
MAX_EVIDENCE = 12
MAX_TIMELINE = 25
MAX_SAMPLES = 2
SAMPLE_CHARS = 300
#: A runner-up within this share of the best score makes the answer uncertain.
CLOSE_MARGIN = 0.10

HIGH, MEDIUM = 0.75, 0.5

_PRIMITIVE_LABELS = {
    "oom_kill": "OOM kill",
    "out_of_memory": "out of memory",
    "disk_full": "disk full",
    "inode_full": "no free inodes",
    "fs_readonly": "read-only file system",
    "read_only_fs": "read-only file system",
    "unit_failed": "systemd unit failed",
    "restart_loop": "restart loop",
    "segfault": "segfault",
    "io_error": "I/O error",
    "disk_error": "disk error",
    "too_many_open_files": "too many open files",
    "cert_expired": "certificate expired",
}
_KILLED = re.compile(r"Killed process \d+ \(([^)]+)\)")


def confidence_label(confidence: float) -> str:
    return "high" if confidence >= HIGH else "medium" if confidence >= MEDIUM else "low"


@dataclass
class Analysis:
    """What the deterministic analysis concluded; `to_report` makes it a `Report`."""

    incident_id: int
    title: str
    hypotheses: list[Hypothesis]
    root_cause: RootCause | None
    no_root_cause: bool
    critical_failure: TimelineEntry | None
    impact: list[ImpactItem]
    timeline: list[TimelineEntry]
    evidence: list[EvidenceItem]
    certain: list[str]
    possible: list[str]
    suggested_actions: list[str]
    #: The tool results the analysis was built from, by tool name (for the crew and tests).
    results: dict[str, ToolResult] = field(default_factory=dict)

    def to_report(
        self,
        *,
        created_at: datetime | None,
        duration_s: float = 0.0,
        degraded: str | None = None,
    ) -> Report:
        """The deterministic report (model "none"); `report_md` is left for the renderer."""
        return Report(
            incident_id=self.incident_id,
            title=self.title,
            root_cause=self.root_cause,
            no_root_cause=self.no_root_cause,
            critical_failure=self.critical_failure,
            impact=list(self.impact),
            timeline=list(self.timeline),
            evidence=list(self.evidence),
            hypotheses=list(self.hypotheses),
            certain=list(self.certain),
            possible=list(self.possible),
            suggested_actions=list(self.suggested_actions),
            model="none",
            created_at=created_at,
            duration_s=round(duration_s, 3),
            degraded=degraded,
        )

    def context(self) -> dict[str, Any]:
        """The compact, JSON-able summary a model starts from (hypotheses, impact, evidence)."""
        return {
            "incident": {"id": self.incident_id, "title": self.title},
            "hypotheses": [
                {
                    "service": h.service,
                    "host": h.host,
                    "score": h.score,
                    "reasons": list(h.reasons),
                    "evidence": list(h.evidence),
                }
                for h in self.hypotheses[:5]
            ],
            "deterministic_root": None
            if self.root_cause is None
            else {
                "service": self.root_cause.service,
                "host": self.root_cause.host,
                "summary": self.root_cause.summary,
                "confidence": self.root_cause.confidence,
            },
            "critical_failure": None
            if self.critical_failure is None
            else _entry_json(self.critical_failure),
            "impact": [
                {"service": i.service, "status": i.status, "depth": i.depth} for i in self.impact
            ],
            "timeline": [_entry_json(e) for e in self.timeline[:15]],
            "evidence": [
                {
                    "id": e.id,
                    "service": e.service,
                    "template_id": e.template_id,
                    "template": e.template,
                    "before": e.count_before,
                    "during": e.count_during,
                    "samples": list(e.samples[:1]),
                    "note": e.note,
                }
                for e in self.evidence
            ],
        }


def _entry_json(e: TimelineEntry) -> dict[str, Any]:
    return {
        "at": iso_z(e.at),
        "service": e.service,
        "host": e.host,
        "summary": e.summary,
        "template_id": e.template_id,
    }


def _hm(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S") if ts.second or ts.microsecond else ts.strftime("%H:%M")


def _label(kind: str | None) -> str:
    return _PRIMITIVE_LABELS.get(kind or "", (kind or "").replace("_", " "))


# -- the analysis ------------------------------------------------------------------------------


def analyse(incident: Incident, tools: EvidenceTools) -> Analysis:
    """The deterministic analysis of `incident` with `tools` (same incident, today's topology).

    Never raises for missing data: a tool's ERROR or NO_DATA only removes what it
    would have added. Raises only on programming errors.
    """
    results: dict[str, ToolResult] = {"timeline": tools.timeline()}
    findings = list(incident.findings)
    ranking = rank_roots(findings, tools.topology)
    candidates = _fold_messengers(list(ranking.candidates), findings, incident)

    # Per-service template statistics of the subjects (bounded: the best 6).
    stats: dict[tuple[str, int], dict[str, Any]] = {}
    for c in candidates[:6]:
        if c.service is None:
            continue
        r = tools.template_stats(c.service)
        results[f"template_stats:{c.service}"] = r
        if r.status is ToolStatus.OK:
            for row in r.data["templates"]:
                stats[(c.service, row["template_id"])] = row

    timeline, first_at = _timeline(results["timeline"], findings)
    evidence, ev_by_subject, ev_by_template = _evidence(incident, findings, stats, first_at)

    hypotheses = [
        Hypothesis(
            c.service,
            c.host,
            round(c.score, 1),
            tuple(_reasons(c, candidates, findings)),
            tuple(ev_by_subject.get(c.subject, ())),
        )
        for c in candidates
    ]

    best = candidates[0] if candidates else None
    no_root, why_not = _unsupported(best, candidates, findings)
    root_findings = [f for f in findings if best is not None and f.subject == best.subject]

    # Impact: the root's blast radius as today's graph has it.
    impact: list[ImpactItem] = []
    blast: list[dict[str, Any]] = []
    if best is not None and not no_root:
        if best.service is not None:
            r = tools.blast_radius(best.service)
            results["blast_radius"] = r
            if r.status is ToolStatus.OK:
                blast = r.data["blast_radius"]
        else:
            blast = [{"service": s, "depth": None} for s in root_blast_radius(best, tools.topology)]
        affected_subjects = {f.service for f in findings if f.service}
        for row in blast:
            s = row["service"]
            if s in MESSENGERS:
                continue
            ids = tuple(ev_by_subject.get(s, ()))
            if s in affected_subjects:
                what = "; ".join(
                    sorted({clean_line(f.summary, 160) for f in findings if f.service == s})
                )
                impact.append(ImpactItem(s, "affected", what, ids, row.get("depth")))
            else:
                impact.append(
                    ImpactItem(
                        s,
                        "at_risk",
                        f"depends on {best.service or best.host} (via "
                        f"{' -> '.join(reversed(row.get('path') or [s]))}) but is still quiet",
                        (),
                        row.get("depth"),
                    )
                )
        impact.sort(key=lambda i: (i.status != "affected", i.depth or 0, i.service))
    results["restarts"] = tools.restarts(best.service if best and best.service else None)

    critical = _critical_failure(timeline, findings, best)
    root_cause = None
    if best is not None and not no_root:
        spike_only = bool(root_findings) and all(
            f.detector in SPIKE_DETECTORS for f in root_findings
        )
        confidence = _confidence(best, candidates, spike_only=spike_only)
        root_cause = RootCause(
            best.service,
            best.host,
            _summary(best, root_findings, impact, stats, first_at),
            confidence,
            tuple(ev_by_subject.get(best.subject, ())),
        )

    certain, possible = _statements(
        incident,
        findings,
        best,
        candidates,
        impact,
        ev_by_subject,
        ev_by_template,
        no_root,
        why_not,
    )
    actions = _actions(best, root_findings, impact, findings, evidence, tools, no_root)
    return Analysis(
        incident_id=incident.id,
        title=incident.title,
        hypotheses=hypotheses,
        root_cause=root_cause,
        no_root_cause=root_cause is None,
        critical_failure=critical,
        impact=impact,
        timeline=timeline,
        evidence=evidence,
        certain=certain,
        possible=possible,
        suggested_actions=actions,
        results=results,
    )


def _fold_messengers(
    candidates: list[RootCandidate], findings: list[Finding], incident: Incident
) -> list[RootCandidate]:
    """Drop a messenger's candidacy when its primitive is about another subject on its host.

    The victim is a candidate on the same host with a primitive of the same kind,
    else the process an OOM line names ("Killed process 2811 (postgres)").
    """
    out = list(candidates)
    samples = (incident.bundle or {}).get("samples") or []
    for c in candidates:
        if c.service not in MESSENGERS or c.primitive is None:
            continue
        victims = [
            o
            for o in out
            if o is not c
            and o.service not in MESSENGERS
            and o.host == c.host
            and (o.primitive == c.primitive or o.primitive is not None)
        ]
        if not victims:
            named = {
                m.group(1)
                for s in samples
                if s.get("host") == c.host and (m := _KILLED.search(s.get("line", "")))
            }
            victims = [o for o in out if o.service in named]
        if victims:
            out.remove(c)
    return out


def _reasons(
    c: RootCandidate, candidates: list[RootCandidate], findings: list[Finding]
) -> list[str]:
    out = []
    if c.host_level:
        out.append(f"host-level: host {c.host} itself is failing or silent")
    if c.primitive:
        out.append(f"primitive: {_label(c.primitive)} on {c.host or 'its host'}")
    others = [o for o in candidates if o is not c]
    if c.dependants:
        out.append(
            f"upstream of {len(c.dependants)} of {max(1, len(others))} other affected subjects "
            f"({', '.join(c.dependants)})"
        )
    if c.breakdown.get("earliest", 0) >= 0.95 * W_EARLIEST:
        out.append(f"earliest anomaly of the incident ({_hm(c.first_at)})")
    else:
        out.append(f"first anomaly at {_hm(c.first_at)}")
    detectors = sorted({f.detector for f in findings if f.subject == c.subject})
    out.append(f"findings: {', '.join(detectors)}")
    return out


def _unsupported(
    best: RootCandidate | None, candidates: list[RootCandidate], findings: list[Finding]
) -> tuple[bool, str]:
    """(True, why) when no hypothesis is supported by the evidence."""
    if best is None:
        return True, "the incident has no findings"
    own = [f for f in findings if f.subject == best.subject]
    named = best.primitive or best.host_level or best.dependants
    spike_only = bool(own) and all(f.detector in SPIKE_DETECTORS for f in own)
    # A spike in one service alone still names it: the cause lies within that service
    # (stated with a modest confidence). Beside other anomalies it names nothing.
    if not named and spike_only and len(candidates) > 1:
        return True, (
            f"the only evidence is a rate spike of a known template on {best.subject}; "
            "no primitive, no new error and no dependant names a cause"
        )
    if len(candidates) > 1:
        second = candidates[1]
        if (
            abs(best.score - second.score) < 1.0
            and not named
            and not (second.primitive or second.host_level or second.dependants)
        ):
            return True, (
                f"{best.subject} and {second.subject} are equally supported "
                "and neither depends on the other"
            )
    return False, ""


def _confidence(
    best: RootCandidate, candidates: list[RootCandidate], *, spike_only: bool = False
) -> float:
    conf = 0.35
    if best.primitive:
        conf += 0.25
    if best.breakdown.get("earliest", 0) >= 0.95 * W_EARLIEST:
        conf += 0.15
    others = len(candidates) - 1
    if others > 0:
        conf += 0.20 * min(1.0, len(best.dependants) / others)
    if best.host_level:
        conf += 0.30
    if spike_only and not (best.primitive or best.host_level or best.dependants):
        conf = min(conf, 0.5)  # only a rate spike: the service, but not why
    if len(candidates) > 1 and candidates[1].score >= (1 - CLOSE_MARGIN) * best.score:
        conf -= 0.20
    return round(max(0.05, min(0.95, conf)), 2)


def _timeline(
    result: ToolResult, findings: list[Finding]
) -> tuple[list[TimelineEntry], dict[tuple[str | None, int | None], datetime]]:
    """Timeline entries (a finding's template counts as the finding) and the first time of
    each (service, template)."""
    first_at: dict[tuple[str | None, int | None], datetime] = {}
    rows = result.data.get("entries", []) if result.status is ToolStatus.OK else []
    for r in rows:
        if r["kind"] != "finding":
            first_at.setdefault((r["service"], r["template_id"]), parse_iso(r["at"]))
    entries: list[TimelineEntry] = []
    seen: set[tuple[str | None, int | None]] = set()
    behind_findings = {(f.service, f.template_id) for f in findings if f.template_id is not None}
    for r in rows:
        key = (r["service"], r.get("template_id"))
        if r["kind"] == "finding":
            at = (
                first_at.get(key, parse_iso(r["at"]))
                if key[1] is not None
                else parse_iso(r["at"])
            )
            if (key, r["detector"]) in seen:
                continue
            seen.add((key, r["detector"]))  # type: ignore[arg-type]
            label = _label(r.get("finding_kind")) if r.get("finding_kind") else r["detector"]
            summary = f"{label}: {r['summary']}"
            if r.get("template") and r["template"][:40] not in r["summary"]:
                summary += f": {r['template']}"
            entries.append(TimelineEntry(at, r["service"], r["host"], summary, key[1]))
        elif key not in behind_findings:
            summary = (
                f"{'first' if r['kind'] == 'new_template' else 'spike of'} {r['severity']} "
                f"template #{r['template_id']} ({r['during']} lines during, {r['before']} before): "
                f"{r['template']}"
            )
            entries.append(
                TimelineEntry(parse_iso(r["at"]), r["service"], r["host"], summary, key[1])
            )
    entries.sort(key=lambda e: (e.at, e.service or "", e.template_id or 0, e.summary))
    return entries[:MAX_TIMELINE], first_at


def _evidence(
    incident: Incident,
    findings: list[Finding],
    stats: dict[tuple[str, int], dict[str, Any]],
    first_at: dict[tuple[str | None, int | None], datetime],
) -> tuple[list[EvidenceItem], dict[str, list[str]], dict[tuple[str | None, int | None], str]]:
    """Evidence items: one per (subject, template) behind a finding, then per silence or
    host-level finding; ids E1.. in time order."""
    bundle = incident.bundle or {}
    samples: dict[int, list[str]] = {}
    for s in bundle.get("samples") or []:
        samples.setdefault(s.get("template_id"), []).append(
            f"{s.get('ts', '')[:19]} {s.get('host')} {s.get('service')}: {s.get('line', '')}"
        )
    texts = {
        r["template_id"]: r.get("template", "")
        for rows in (bundle.get("templates") or {}).values()
        for r in rows
    }
    texts.update({r["template_id"]: r.get("template", "") for r in bundle.get("first_seen") or []})

    groups: dict[tuple[str, int | None, str | None], list[Finding]] = {}
    for f in findings:
        key = (
            f.subject,
            f.template_id,
            None if f.template_id is not None else f.kind or f.detector,
        )
        groups.setdefault(key, []).append(f)

    def when(key: tuple[str, int | None, str | None]) -> datetime:
        fs = groups[key]
        svc = fs[0].service
        return first_at.get((svc, key[1]), min(f.started_at for f in fs))

    items: list[EvidenceItem] = []
    by_subject: dict[str, list[str]] = {}
    by_template: dict[tuple[str | None, int | None], str] = {}
    for n, key in enumerate(sorted(groups, key=lambda k: (when(k), k[0], k[1] or 0)), start=1):
        if n > MAX_EVIDENCE:
            break
        fs = groups[key]
        f0 = fs[0]
        eid = f"E{n}"
        tid = key[1]
        row = stats.get((f0.service, tid)) if f0.service and tid is not None else None
        detectors = sorted({f.detector + (f":{f.kind}" if f.kind else "") for f in fs})
        note = f"{', '.join(detectors)}; first at {_hm(when(key))}"
        if tid is None:
            note = f"{note}; {clean_line(f0.summary, 200)}"
        items.append(
            EvidenceItem(
                id=eid,
                service=f0.service,
                host=f0.host,
                template_id=tid,
                template=(row or {}).get("template") or texts.get(tid) if tid is not None else None,
                count_before=row["before"] if row else _ev_int(f0, "expected_lines"),
                count_during=row["during"] if row else _ev_int(f0, "count"),
                samples=tuple(
                    clean_line(s, SAMPLE_CHARS) for s in samples.get(tid, [])[:MAX_SAMPLES]
                )
                if tid is not None
                else (),
                note=note,
            )
        )
        by_subject.setdefault(key[0], []).append(eid)
        by_template[(f0.service, tid)] = eid
    return items, by_subject, by_template


def _ev_int(f: Finding, key: str) -> int | None:
    v = f.evidence.get(key)
    return round(v) if isinstance(v, int | float) else None


def _critical_failure(
    timeline: list[TimelineEntry], findings: list[Finding], best: RootCandidate | None
) -> TimelineEntry | None:
    """The first symptom: the earliest primitive in the timeline, else the root's earliest
    entry, else the earliest finding."""
    primitive_keys = {(f.service, f.template_id) for f in findings if is_primitive(f)}
    primitive_subjects = {f.service for f in findings if is_primitive(f) and f.template_id is None}
    for e in timeline:
        if (e.service, e.template_id) in primitive_keys or (
            e.template_id is None and e.service in primitive_subjects
        ):
            return e
    if best is not None:
        for e in timeline:
            if e.service == best.service:
                return e
    return timeline[0] if timeline else None


def _summary(
    best: RootCandidate,
    own: list[Finding],
    impact: list[ImpactItem],
    stats: dict[tuple[str, int], dict[str, Any]],
    first_at: dict[tuple[str | None, int | None], datetime],
) -> str:
    where = (
        f"{best.service} on {best.host}"
        if best.service and best.host
        else (best.service or f"host {best.host}")
    )
    at = _hm(best.first_at)
    kind = best.primitive
    if best.host_level:
        what = f"host {best.host} went silent or failed at {at}; everything on it is affected"
    elif kind in ("oom_kill", "out_of_memory"):
        what = f"{where} was killed by the kernel's OOM killer at {at}"
    elif kind in ("disk_full", "inode_full"):
        what = f"{where} failed at {at} because the disk is full (no space left on device)"
    elif kind:
        what = f"{where}: {_label(kind)} at {at}"
    elif any(f.detector == "silence" for f in own):
        what = f"{where} stopped logging at {at}"
    elif any(f.detector == "new_template" for f in own):
        f = next(f for f in own if f.detector == "new_template")
        tpl = (stats.get((f.service or "", f.template_id or -1)) or {}).get("template")
        what = f"{where} started logging a new error at {at}" + (f": {tpl}" if tpl else "")
    elif own and all(f.detector in SPIKE_DETECTORS for f in own):
        what = (
            f"{where}'s errors spiked at {at} with no anomaly upstream of it, so the cause "
            "lies within it (the logs do not say why)"
        )
    else:
        what = f"{where} shows the incident's first anomaly at {at}"
    affected = [i.service for i in impact if i.status == "affected"]
    if affected:
        verb = "fails" if len(affected) == 1 else "fail"
        they = "it depends" if len(affected) == 1 else "they depend"
        what += f"; {', '.join(affected)} {verb} because {they} on it"
    return what + "."


def _statements(
    incident: Incident,
    findings: list[Finding],
    best: RootCandidate | None,
    candidates: list[RootCandidate],
    impact: list[ImpactItem],
    ev_by_subject: dict[str, list[str]],
    ev_by_template: dict[tuple[str | None, int | None], str],
    no_root: bool,
    why_not: str,
) -> tuple[list[str], list[str]]:
    certain: list[str] = []
    possible: list[str] = []
    by_key: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (f.started_at, f.subject)):
        by_key.setdefault(f.key, []).append(f)
    for fs in by_key.values():
        f = fs[0]
        eid = ev_by_template.get((f.service, f.template_id))
        again = f", again at {', '.join(_hm(g.started_at) for g in fs[1:4])}" if fs[1:] else ""
        certain.append(
            f"{clean_line(f.summary, 200)} (from {_hm(f.started_at)}{again}"
            + (f"; {eid})" if eid else ")")
        )
    if best is not None and best.dependants and not no_root:
        certain.append(
            f"the inventory says {', '.join(best.dependants)} depend on "
            f"{best.service or best.host} (directly or transitively)"
        )
    if no_root:
        certain.append(f"no root cause found: {why_not}")
    elif best is not None:
        affected = [i.service for i in impact if i.status == "affected"]
        if affected:
            possible.append(
                f"the anomalies of {', '.join(affected)} follow from "
                f"{best.service or best.host}: they depend on it"
                + (
                    " and started later"
                    if all(c.first_at >= best.first_at for c in candidates if c.service in affected)
                    else ""
                )
            )
        at_risk = [i.service for i in impact if i.status == "at_risk"]
        if at_risk:
            verb = "depends" if len(at_risk) == 1 else "depend"
            possible.append(
                f"{', '.join(at_risk)} {verb} on {best.service or best.host} and may fail next "
                "(still quiet)"
            )
        explained = {i.service for i in impact} | {best.service}
        stray = sorted(
            {
                c.service
                for c in candidates
                if c.service and c.service not in explained and c.service not in MESSENGERS
            }
        )
        if stray:
            possible.append(
                f"{', '.join(stray)} also show anomalies but the inventory gives no dependency "
                f"path from {best.service or best.host}: an independent problem, a shared host, "
                "or a missing edge in inventory.yaml"
            )
    for c in candidates[1:3]:
        if c.score > 0 and (no_root or c.score >= 0.5 * (best.score if best else 0)):
            possible.append(
                f"alternative: {c.subject}{' on ' + c.host if c.host and c.service else ''} "
                f"(score {c.score:.1f})"
            )
    return certain, possible


def _unit_of(service: str, tools: EvidenceTools) -> str:
    inventory = getattr(tools.topology, "inventory", None)
    spec = inventory.services.get(service) if inventory is not None else None
    if spec is not None and spec.match is not None and spec.match.units:
        return spec.match.units[0]
    return f"{service}.service"


def _actions(
    best: RootCandidate | None,
    own: list[Finding],
    impact: list[ImpactItem],
    findings: list[Finding],
    evidence: list[EvidenceItem],
    tools: EvidenceTools,
    no_root: bool,
) -> list[str]:
    out: list[str] = []
    since = (tools.window.onset - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")

    def add(text: str) -> None:
        if text not in out:
            out.append(text)

    kinds = {f.kind for f in own if f.kind}
    if best is not None and not no_root:
        svc, host = best.service, best.host or "its host"
        if best.host_level:
            add(f"check that {best.host} is up: `ping {best.host}`, `ssh {best.host} uptime`")
            add(f"after it is back: `journalctl -b -1 -e` on {best.host} for the last boot's end")
        if svc is not None:
            unit = _unit_of(svc, tools)
            if kinds & {"oom_kill", "out_of_memory"}:
                add(f"check memory on {host}: `free -m` and `ps aux --sort=-rss | head`")
                add(
                    f"check the memory limits of {svc}: "
                    f"`systemctl show {unit} -p MemoryMax -p MemoryHigh`"
                )
                add(
                    f"`systemctl status {unit}` and "
                    f"`journalctl -u {unit} --since '{since}'` on {host}"
                )
                add(
                    f"`journalctl -k --since '{since}' | grep -i -e oom -e 'killed process'` "
                    f"on {host}"
                )
            if kinds & {"disk_full", "inode_full"}:
                add(f"`df -h` and `df -i` on {host}")
                add(f"find what filled it: `du -xh / 2>/dev/null | sort -rh | head -20` on {host}")
                add(
                    f"free space, then re-run `systemctl start {unit}` "
                    f"and watch `journalctl -u {unit} -f`"
                )
            if kinds & {"unit_failed", "restart_loop"}:
                add(
                    f"`systemctl status {unit}` and "
                    f"`journalctl -u {unit} --since '{since}'` on {host}"
                )
            if kinds & {"fs_readonly", "read_only_fs", "io_error", "disk_error", "fs_error"}:
                add(
                    f"`dmesg -T | tail -50` and `mount | grep ' ro,'` on {host}; "
                    "check the disk's SMART status"
                )
            if any(f.detector == "silence" for f in own) and not kinds & PRIMITIVE_KINDS:
                add(f"`systemctl status {unit}` on {host}: is {svc} running?")
                add(f"`journalctl -u {unit} --since '{since}'` on {host}")
    new_templates = 0
    for f in sorted(
        findings, key=lambda f: (best is None or f.subject != best.subject, f.started_at)
    ):
        if f.detector == "new_template" and f.template_id is not None and new_templates < 3:
            new_templates += 1
            ev = next((e for e in evidence if e.template_id == f.template_id), None)
            if ev is not None:
                add(
                    f"read the new error template #{f.template_id} of {f.service} "
                    f"and its sample lines ({ev.id})"
                )
        if f.detector in SPIKE_DETECTORS and f.template_id is not None:
            add(
                f"look at the spike of template #{f.template_id} on {f.subject} "
                f"(`investigate --incident {tools.incident.id} --json`, evidence)"
            )
    at_risk = [i.service for i in impact if i.status == "at_risk"]
    if at_risk:
        add(f"watch {', '.join(at_risk)}: in the blast radius, still quiet")
    if no_root:
        add(
            "no root cause is supported: compare the lines around the first finding with "
            "`logvigil incidents show` and check whether a dependency is missing "
            "from inventory.yaml"
        )
    return out
