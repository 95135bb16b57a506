"""What the report says in words: the root cause's summary, what is certain, what possible."""

from __future__ import annotations

from collections.abc import Mapping

from detector.incidents.root import RootCandidate
from detector.incidents.summary import describe_finding
from investigate.analysis.evidence import StatsRows
from investigate.analysis.hypotheses import spike_only
from investigate.analysis.impact import SUPERVISORS
from investigate.analysis.wording import clock, label
from investigate.model import ImpactItem
from logvigil.core.findings import Finding


def root_summary(
    best: RootCandidate, own: list[Finding], impact: list[ImpactItem], stats: StatsRows
) -> str:
    """One sentence: what happened to the root (`own` are its findings) and what failed
    because of it."""
    where = (
        f"{best.service} on {best.host}"
        if best.service and best.host
        else (best.service or f"host {best.host}")
    )
    at = clock(best.first_at)
    kind = best.primitive
    if best.host_level:
        what = f"host {best.host} went silent or failed at {at}; everything on it is affected"
    elif kind in ("oom_kill", "out_of_memory"):
        what = f"{where} was killed by the kernel's OOM killer at {at}"
    elif kind in ("disk_full", "inode_full"):
        what = f"{where} failed at {at} because the disk is full (no space left on device)"
    elif kind:
        what = f"{where}: {label(kind)} at {at}"
    elif any(f.detector == "silence" for f in own):
        what = f"{where} stopped logging at {at}"
    elif any(f.detector == "new_template" for f in own):
        f = next(f for f in own if f.detector == "new_template")
        tpl = (stats.get((f.service or "", f.template_id or -1)) or {}).get("template")
        what = f"{where} started logging a new error at {at}" + (f": {tpl}" if tpl else "")
    elif spike_only(own):
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


def subject_facts(
    findings: list[Finding], ev_by_template: Mapping[tuple[str | None, int | None], str]
) -> list[str]:
    """One fact per subject, in the order they started: what it showed, since when, and the
    evidence (`postgres on db-01: OOM-killed, 2 new errors from 01:00 (E1, E2, E3)`). The
    timeline has each finding with its line; this says what each subject went through."""
    by_subject: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (f.started_at, f.subject)):
        by_subject.setdefault(f.subject, []).append(f)
    out = []
    for fs in by_subject.values():
        f0 = fs[0]
        where = (
            f"{f0.service} on {f0.host}"
            if f0.service and f0.host
            else (f0.service or f"host {f0.host}")
        )
        phrases: dict[str, list[Finding]] = {}
        for f in fs:
            phrases.setdefault(describe_finding(f), []).append(f)
        parts = []
        for phrase, group in phrases.items():
            keys = {g.key for g in group}
            if len(keys) > 1:
                parts.append(f"{len(keys)} {phrase}s" if phrase == "new error" else phrase)
            else:
                again = [clock(g.started_at) for g in group[1:4]]
                parts.append(phrase + (f" (again at {', '.join(again)})" if again else ""))
        ids = sorted(
            {e for f in fs if (e := ev_by_template.get((f.service, f.template_id)))},
            key=lambda e: (len(e), e),
        )
        out.append(
            f"{where}: {', '.join(parts)} from {clock(f0.started_at)}"
            + (f" ({', '.join(ids)})" if ids else "")
        )
    return out


def statements(
    findings: list[Finding],
    best: RootCandidate | None,
    candidates: list[RootCandidate],
    impact: list[ImpactItem],
    ev_by_template: Mapping[tuple[str | None, int | None], str],
    no_root: bool,
    why_not: str,
) -> tuple[list[str], list[str]]:
    """What is certain (what each subject showed, the inventory's dependencies, or why
    there is no root) and what is possible (the cascade, what may fail next, alternatives)."""
    certain: list[str] = subject_facts(findings, ev_by_template)
    possible: list[str] = []
    dependants = [d for d in (best.dependants if best is not None else ()) if d not in SUPERVISORS]
    if best is not None and dependants and not no_root:
        certain.append(
            f"the inventory says {', '.join(dependants)} depend on "
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
                if c.service and c.service not in explained and c.service not in SUPERVISORS
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
