"""A dependant is "affected" by the root only when the order of events supports it."""

from __future__ import annotations

from datetime import timedelta

from incident_support import at, finding

from detector.incidents.root import RootCandidate
from investigate.analysis.impact import impact_of

ROOT = RootCandidate("postgres", "postgres", "db-01", at(10), 1.0, primitive="oom_kill")
BLAST = [
    {"service": "gitea", "depth": 1, "path": ["postgres", "gitea"]},
    {"service": "nextcloud", "depth": 1, "path": ["postgres", "nextcloud"]},
    {"service": "nginx", "depth": 2, "path": ["postgres", "nextcloud", "nginx"]},
]


def test_a_dependant_that_failed_before_the_root_is_not_affected_by_it() -> None:
    findings = [
        finding("postgres", "db-01", 10, detector="primitives", kind="oom_kill"),
        finding("gitea", "app-02", 3),  # seven minutes before postgres was killed
        finding("nextcloud", "web-01", 10.5),  # after it (same minute's rounding too)
    ]
    items = {i.service: i for i in impact_of(ROOT, BLAST, findings, {})}
    assert items["nextcloud"].status == "affected"
    assert items["gitea"].status == "at_risk"
    assert (
        "its own trouble began at" in items["gitea"].summary
        and "before postgres" in items["gitea"].summary
    )
    assert items["nginx"].status == "at_risk"  # still quiet


def test_a_minute_of_rounding_is_not_before() -> None:
    findings = [finding("gitea", "app-02", 10 - 0.9)]
    (gitea, *_) = impact_of(ROOT, BLAST[:1], findings, {})
    assert gitea.status == "affected"
    assert ROOT.first_at - findings[0].started_at < timedelta(minutes=1)
