"""The report's evidence items: one per (subject, template) behind a finding, then per
silence or host-level finding; ids E1.. in time order, each with the template's text,
its line counts and sample lines from the bundle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from detector.incidents.model import Incident
from investigate.analysis.chronology import FirstTimes
from investigate.analysis.wording import clock
from investigate.model import EvidenceItem
from logvigil.core.findings import Finding
from logvigil.core.redact import clean_line

#: Evidence items at most, and sample lines per item.
MAX_EVIDENCE = 12
MAX_SAMPLES = 2
SAMPLE_CHARS = 300

#: (service, template id) -> the `template_stats` row of that template.
StatsRows = dict[tuple[str, int], dict[str, Any]]


def evidence_items(
    incident: Incident, findings: list[Finding], stats: StatsRows, first_at: FirstTimes
) -> tuple[list[EvidenceItem], dict[str, list[str]], dict[tuple[str | None, int | None], str]]:
    """The items, their ids per subject, and the id per (service, template)."""
    bundle = incident.bundle
    samples: dict[int | None, list[str]] = {}
    for s in bundle.samples if bundle is not None else ():
        samples.setdefault(s.template_id, []).append(
            f"{s.ts.strftime('%Y-%m-%dT%H:%M:%S')} {s.host} {s.service}: {s.line}"
        )

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
        return first_at.get((fs[0].service, key[1]), min(f.started_at for f in fs))

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
        note = f"{', '.join(detectors)}; first at {clock(when(key))}"
        if tid is None:
            note = f"{note}; {clean_line(f0.summary, 200)}"
        quoted = bundle.template_text(tid) if bundle is not None and tid is not None else None
        items.append(
            EvidenceItem(
                id=eid,
                service=f0.service,
                host=f0.host,
                template_id=tid,
                template=(row or {}).get("template") or quoted if tid is not None else None,
                count_before=row["before"] if row else _evidence_int(f0, "expected_lines"),
                count_during=row["during"] if row else _evidence_int(f0, "count"),
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


def _evidence_int(f: Finding, key: str) -> int | None:
    v = f.evidence.get(key)
    return round(v) if isinstance(v, int | float) else None
