"""host_unreachable: a remote host the sources' health records say cannot be reached."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from detector.detectors import DetectorsConfig, build_detectors
from detector.detectors.base import Window
from detector.detectors.host_unreachable import HostUnreachable, HostUnreachableConfig
from logvigil.core.events import Severity
from logvigil.store.source_health import STALE_AFTER, SourceHealthRecord

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
DOWN = SourceHealthRecord(
    source="ssh_journald:10.0.0.5",
    process="hub-01:42",
    kind="ssh_journald",
    updated_at=NOW - timedelta(seconds=5),
    host="db-01",
    unreachable_since=NOW - timedelta(minutes=10),
    unreachable_grace_s=300,
    error="ssh 10.0.0.5 exited with status 255: Connection refused",
)


def found(*records: SourceHealthRecord, now: datetime = NOW):
    findings, state = HostUnreachable().evaluate(
        Window(now - timedelta(minutes=1), now, sources=records), {}, now
    )
    assert state == {}
    return findings


def test_a_host_unreachable_beyond_its_grace_is_one_host_level_finding() -> None:
    (finding,) = found(DOWN)
    assert (finding.detector, finding.kind, finding.service, finding.host) == (
        "source",
        "host_unreachable",
        None,
        "db-01",
    )
    assert finding.severity is Severity.ERROR
    assert (finding.at, finding.started_at) == (NOW, DOWN.unreachable_since)
    assert finding.summary == (
        "db-01 unreachable over SSH since 2026-03-04 09:50:00 UTC; its logs are not being "
        "read (ssh 10.0.0.5 exited with status 255: Connection refused)"
    )
    assert dict(finding.evidence) == {
        "source": "ssh_journald:10.0.0.5",
        "unreachable_since": "2026-03-04T09:50:00+00:00",
        "unreachable_seconds": 600,
        "error": "ssh 10.0.0.5 exited with status 255: Connection refused",
    }


def test_a_host_within_its_grace_is_not_a_finding_yet() -> None:
    since = NOW - timedelta(seconds=300)
    assert found(replace(DOWN, unreachable_since=since)) == []
    assert len(found(replace(DOWN, unreachable_since=since - timedelta(seconds=1)))) == 1


def test_the_record_of_a_process_that_stopped_reporting_is_not_believed() -> None:
    assert found(replace(DOWN, updated_at=NOW - STALE_AFTER - timedelta(seconds=1))) == []
    assert len(found(replace(DOWN, updated_at=NOW - STALE_AFTER))) == 1


@pytest.mark.parametrize(
    "record",
    [
        replace(DOWN, unreachable_since=None),  # connected
        replace(DOWN, host=None, unreachable_since=None, kind="file"),  # a local source
    ],
    ids=["reachable", "local"],
)
def test_a_reachable_host_or_a_local_source_finds_nothing(record: SourceHealthRecord) -> None:
    assert found(record) == []


def test_each_unreachable_host_is_its_own_finding_and_a_missing_error_says_so() -> None:
    other = replace(DOWN, source="ssh_journald:db-02", host="db-02", error=None)
    findings = found(DOWN, other)
    assert [f.host for f in findings] == ["db-01", "db-02"]
    assert findings[1].summary.endswith("(no connection)")
    assert findings[1].evidence["error"] == "no connection"


def test_it_has_a_config_section_and_can_be_switched_off() -> None:
    assert HostUnreachableConfig().enabled
    off = DetectorsConfig.model_validate({"host_unreachable": {"enabled": False}})
    assert "host_unreachable" not in [d.name for d in build_detectors(off)]
