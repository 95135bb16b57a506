"""ZFS's event daemon reports a pool's device gone in a line whose every value the miner
masks (`vdev_state=UNAVAIL` and `vdev_state=ONLINE` are one template): the severity
rules raise the line of a lost device to CRITICAL, and `zfs_vdev_fault` counts only
those lines of its template (`Primitive.min_severity`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from detector.detectors.base import CountRow, Window
from detector.detectors.primitive import PrimitiveConfig, PrimitiveDetector, PrimitiveSpec
from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.core.events import LogEvent, Severity
from logvigil.core.findings import Finding
from logvigil.ingest.formats import input_options, read_events
from logvigil.ingest.templates import TemplateMiner

READ_AT = datetime(2023, 4, 12, tzinfo=UTC)
OPTIONS = input_options("syslog", year=2023, default_time=READ_AT, not_after=READ_AT)

# A boot of a machine whose raidz3 lost its disks, oldest first, as posted by its
# owner (`journalctl -rb | grep -i zfs`, Ubuntu 22.04, ZFS 2.1.5; a few of its lines).
FAILING_BOOT = """\
Apr 10 15:10:15 server zpool[1885]: cannot import 'Pool': one or more devices is currently unavailable
Apr 10 15:10:15 server systemd[1]: Finished Mount ZFS filesystems.
Apr 10 15:10:16 server systemd[1]: Started ZFS Event Daemon (zed).
Apr 10 15:10:16 server zed[2218]: ZFS Event Daemon 2.1.5-1ubuntu6~22.04.1 (PID 2218)
Apr 10 15:10:16 server zed[2252]: eid=2 class=statechange pool='Pool' vdev=sdf1 vdev_state=UNAVAIL
Apr 10 15:10:16 server zed[2265]: eid=1 class=statechange pool='Pool' vdev=sda1 vdev_state=UNAVAIL
Apr 10 15:10:16 server zed[2278]: eid=3 class=statechange pool='Pool' vdev=sdc1 vdev_state=UNAVAIL
Apr 10 15:10:16 server zed[2331]: eid=4 class=vdev.no_replicas pool='Pool'
Apr 10 15:10:16 server zed[2413]: eid=8 class=zpool pool='Pool'
"""


def _boot(state: str) -> list[bytes]:
    return [
        line.replace("vdev_state=UNAVAIL", f"vdev_state={state}").encode() + b"\n"
        for line in FAILING_BOOT.splitlines()
    ]


def _zfs_findings(lines: list[bytes]) -> list[Finding]:
    """The `zfs_vdev_fault` findings of a replay of `lines`, each checked to be an
    incident's trigger."""
    found: list[Finding] = []
    result = run_backtest(
        lines,
        fmt="syslog",
        inventory=empty_inventory(),
        read_options=OPTIONS,
        on_tick=lambda tick: found.extend(f for f in tick.findings if f.kind == "zfs_vdev_fault"),
    )
    triggers = [t["summary"] for i in result.incidents for t in i["triggers"]]
    assert [f.summary for f in found] == [t for t in triggers if "ZFS" in t]
    return found


def test_a_pool_losing_its_devices_pages_once_per_host() -> None:
    (finding,) = _zfs_findings(_boot("UNAVAIL"))
    assert (finding.service, finding.host, finding.severity) == ("zed", "server", Severity.CRITICAL)
    assert finding.evidence["count"] == 3
    assert "ZFS pool lost a device" in finding.summary


@pytest.mark.parametrize("state", ["ONLINE", "OFFLINE"])
def test_a_device_back_or_taken_offline_by_the_operator_pages_nothing(state: str) -> None:
    assert _zfs_findings(_boot(state)) == []


def _window(lines: list[str], *, service: str = "zed") -> Window:
    """One minute of `lines` as ingest counts them: template and severity per line."""
    t0 = datetime(2023, 4, 10, 15, 10, tzinfo=UTC)
    miner = TemplateMiner()
    rows, texts = [], {}
    for event in read_events([line.encode() for line in lines], "syslog", OPTIONS):
        assert isinstance(event, LogEvent), event
        m = miner.add(event.message)
        texts[m.template_id] = m.template
        rows.append(CountRow(t0, event.host, service, m.template_id, event.severity, 1))
    return Window(t0, t0 + timedelta(minutes=1), tuple(rows), texts)


def test_only_the_lines_the_severity_rules_raised_count() -> None:
    lines = [
        "Apr 10 15:10:16 server zed[2601]: eid=19 class=statechange pool='Pool' vdev=sdd1 "
        "vdev_state=ONLINE",
        "Apr 10 15:10:16 server zed[2509]: eid=15 class=statechange pool='Pool' vdev=sdd1 "
        "vdev_state=UNAVAIL",
    ]
    window = _window(lines)
    assert len(window.templates) == 1  # one template for both states
    detector = PrimitiveDetector()
    (finding,) = detector.evaluate(window, {}, window.end)[0]
    assert finding.kind == "zfs_vdev_fault" and finding.evidence["count"] == 1
    assert detector.evaluate(_window(lines[:1]), {}, window.end)[0] == []


def test_a_user_primitive_may_count_only_lines_of_a_severity() -> None:
    spec = PrimitiveSpec.model_validate(
        {"name": "pool_event", "pattern": r"class=<\*>", "min_severity": "critical"}
    )
    detector = PrimitiveDetector(PrimitiveConfig(extra=(spec,), disabled=("zfs_vdev_fault",)))
    line = "Apr 10 15:10:16 server zed[2509]: eid=15 class=statechange pool='Pool' vdev=sdd1 "
    assert detector.evaluate(_window([line + "vdev_state=ONLINE"]), {}, READ_AT)[0] == []
    (finding,) = detector.evaluate(_window([line + "vdev_state=FAULTED"]), {}, READ_AT)[0]
    assert finding.kind == "pool_event" and finding.severity is Severity.ERROR


def test_a_user_primitives_unknown_severity_floor_is_named() -> None:
    with pytest.raises(ValidationError, match="min_severity"):
        PrimitiveSpec.model_validate({"name": "x", "pattern": "y", "min_severity": "loud"})
