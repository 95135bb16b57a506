"""The root's impact: which services in its blast radius are affected, which only at risk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from detector.detectors.primitive import SUPERVISORS
from detector.incidents.root import RootCandidate
from investigate.analysis.wording import clock, without_subject
from investigate.model import ImpactItem
from logvigil.core.findings import Finding
from logvigil.core.redact import clean_line

#: Findings are per minute: a dependant's anomaly this much before the root's is still
#: "at the same time" (a minute's rounding), not before it.
ORDER_SLACK = timedelta(minutes=1)


def impact_of(
    best: RootCandidate,
    blast: Sequence[Mapping[str, Any]],
    findings: list[Finding],
    ev_by_subject: Mapping[str, list[str]],
) -> list[ImpactItem]:
    """One item per service of `blast` (the root's blast radius as `blast_radius` rows:
    service, depth, path), supervisors left out: `affected` when it has findings,
    `at_risk` when it is still quiet, or when its own trouble began before the root's
    (the order of events does not support a causal claim); affected first, nearest
    first."""
    impact: list[ImpactItem] = []
    affected_subjects = {f.service for f in findings if f.service}
    for row in blast:
        s = row["service"]
        if s in SUPERVISORS:
            continue
        began = min((f.started_at for f in findings if f.service == s), default=None)
        if began is not None and began < best.first_at - ORDER_SLACK:
            # Its trouble began before the root's: the order of events does not support
            # "fails because it depends on it".
            impact.append(
                ImpactItem(
                    s,
                    "at_risk",
                    f"depends on {best.service or best.host}, but its own trouble began at "
                    f"{clock(began)}, before {best.service or best.host}'s",
                    tuple(ev_by_subject.get(s, ())),
                    row.get("depth"),
                )
            )
            continue
        if s in affected_subjects:
            what = "; ".join(
                sorted(
                    {
                        clean_line(without_subject(f.summary, f.service, f.host), 160)
                        for f in findings
                        if f.service == s
                    }
                )
            )
            impact.append(
                ImpactItem(s, "affected", what, tuple(ev_by_subject.get(s, ())), row.get("depth"))
            )
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
    return impact
