"""The hypotheses: which candidates stand, why, whether any is supported, how confident.

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

from detector.detectors.primitive import MESSENGERS
from detector.incidents.model import Incident
from detector.incidents.root import W_EARLIEST, RootCandidate
from investigate.analysis.wording import clock, label
from logvigil.core.findings import Finding

#: Detectors whose findings alone do not name a cause.
SPIKE_DETECTORS = frozenset({"error_spike"})
#: A runner-up within this share of the best score makes the answer uncertain.
CLOSE_MARGIN = 0.10

_KILLED = re.compile(r"Killed process \d+ \(([^)]+)\)")


def fold_messengers(
    candidates: list[RootCandidate], findings: list[Finding], incident: Incident
) -> list[RootCandidate]:
    """Drop a messenger's candidacy when its primitive is about another subject on its host.

    The victim is a candidate on the same host with a primitive of the same kind,
    else the process an OOM line of the bundle's samples names ("Killed process
    2811 (postgres)").
    """
    out = list(candidates)
    samples = incident.bundle.samples if incident.bundle is not None else ()
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
                m.group(1) for s in samples if s.host == c.host and (m := _KILLED.search(s.line))
            }
            victims = [o for o in out if o.service in named]
        if victims:
            out.remove(c)
    return out


def reasons(
    c: RootCandidate, candidates: list[RootCandidate], findings: list[Finding]
) -> list[str]:
    """Why `c` is a hypothesis, in words: what it is, what depends on it, when it started."""
    out = []
    if c.host_level:
        out.append(f"host-level: host {c.host} itself is failing or silent")
    if c.primitive:
        out.append(f"primitive: {label(c.primitive)} on {c.host or 'its host'}")
    others = [o for o in candidates if o is not c]
    if c.dependants:
        out.append(
            f"upstream of {len(c.dependants)} of {max(1, len(others))} other affected subjects "
            f"({', '.join(c.dependants)})"
        )
    if c.breakdown.get("earliest", 0) >= 0.95 * W_EARLIEST:
        out.append(f"earliest anomaly of the incident ({clock(c.first_at)})")
    else:
        out.append(f"first anomaly at {clock(c.first_at)}")
    detectors = sorted({f.detector for f in findings if f.subject == c.subject})
    out.append(f"findings: {', '.join(detectors)}")
    return out


def spike_only(findings: list[Finding]) -> bool:
    """True when there are findings and every one is a rate spike."""
    return bool(findings) and all(f.detector in SPIKE_DETECTORS for f in findings)


def unsupported(
    best: RootCandidate | None, candidates: list[RootCandidate], findings: list[Finding]
) -> tuple[bool, str]:
    """(True, why) when no hypothesis is supported by the evidence, else (False, "")."""
    if best is None:
        return True, "the incident has no findings"
    own = [f for f in findings if f.subject == best.subject]
    named = best.primitive or best.host_level or best.dependants
    # A spike in one service alone still names it: the cause lies within that service
    # (stated with a modest confidence). Beside other anomalies it names nothing.
    if not named and spike_only(own) and len(candidates) > 1:
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


def confidence(
    best: RootCandidate, candidates: list[RootCandidate], *, only_spikes: bool = False
) -> float:
    """The calibrated confidence in `best` (see the module's docstring), 0.05 .. 0.95."""
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
    if only_spikes and not (best.primitive or best.host_level or best.dependants):
        conf = min(conf, 0.5)  # only a rate spike: the service, but not why
    if len(candidates) > 1 and candidates[1].score >= (1 - CLOSE_MARGIN) * best.score:
        conf -= 0.20
    return round(max(0.05, min(0.95, conf)), 2)
