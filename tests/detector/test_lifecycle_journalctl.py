"""journalctl's boot markers as a life-cycle phase: the lines journalctl prints between two
boots (src/journal/journalctl.c: "-- Boot %s --" with the 32-digit boot ID, "-- Reboot --"
in systemd 239) are a boot, as the journalctl reader gives them, raw and as templates."""

from __future__ import annotations

import pytest

from detector.detectors.lifecycle import Phase, phase_of, reexecutes, writes_shutdown
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.templates import TemplateMiner

MARKERS = ["-- Boot 6a5c7c1e0f4d4d8e9b1d1f0e2a3b4c5d --", "-- Reboot --"]


@pytest.mark.parametrize("marker", MARKERS)
def test_a_journalctl_boot_marker_is_a_boot_raw_and_as_a_template(marker: str) -> None:
    assert phase_of("journalctl", marker) is Phase.BOOT
    assert phase_of("journalctl", TemplateMiner().add(marker).template) is Phase.BOOT


@pytest.mark.parametrize("marker", MARKERS)
def test_the_reader_gives_the_marker_the_service_phase_of_expects(marker: str) -> None:
    lines = [marker.encode(), b"Nov 30 07:31:09 web-01 kernel: Linux version 6.1.0 (x) (gcc)"]
    boot, _ = read_events(lines, "journalctl", ReadOptions(source="x.txt"))
    assert phase_of(boot.service, boot.message) is Phase.BOOT


@pytest.mark.parametrize(
    ("service", "text"),
    [
        ("journalctl", "-- No entries --"),
        ("journalctl", "-- Logs begin at Thu 2021-04-29 17:44:42 BST, end at Thu 2021-05-06."),
        ("journalctl", "-- Boot --"),
        ("journalctl", "-- Boot 6a5c7c1e0f4d4d8e9b1d1f0e2a3b4c5d -- and more"),
        # the same words written by a program: no marker of journalctl's
        ("myapp", "-- Boot 6a5c7c1e0f4d4d8e9b1d1f0e2a3b4c5d --"),
        ("unknown", "-- Reboot --"),
        ("kernel", "-- Reboot --"),
    ],
)
def test_other_markers_and_other_programs_are_no_boot(service: str, text: str) -> None:
    assert phase_of(service, text) is None


def test_journalctl_writes_no_shutdown_and_never_reexecutes() -> None:
    assert not writes_shutdown("journalctl")
    assert not reexecutes("journalctl", "-- Reboot --")
