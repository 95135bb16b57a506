"""A host's life cycle in its own words: each phase from the real wording of the program
that writes it (lines quoted from ../shared/data/real_logs or the program's source), and
the same words from another program are no phase."""

from __future__ import annotations

import pytest

from detector.detectors.lifecycle import (
    SHUTDOWN_WRITERS,
    Phase,
    phase_of,
    reexecutes,
    writes_shutdown,
)
from logvigil.ingest.templates import TemplateMiner

REAL = [
    # loghub_Linux_full.log (Red Hat, kernel 2.6.5, sysklogd 1.4.1)
    (
        "kernel",
        "Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 "
        "20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004",
        Phase.BOOT,
    ),
    ("kernel", "EXT3-fs: INFO: recovery required on readonly filesystem.", Phase.FS_RECOVERY),
    ("kernel", "EXT3-fs: hda2: orphan cleanup on readonly fs", Phase.FS_RECOVERY),
    ("shutdown", "shutting down for system reboot", Phase.SHUTDOWN),
    ("init", "Switching to runlevel: 6", Phase.SHUTDOWN),
    ("kernel", "Kernel logging (proc) stopped.", Phase.SHUTDOWN),
    ("kernel", "Kernel log daemon terminating.", Phase.SHUTDOWN),
    ("unknown", "exiting on signal 15", Phase.SHUTDOWN),
    # plemma_syslog.log (Debian 10, rsyslog, systemd)
    (
        "kernel",
        "[    0.000000] Linux version 4.19.0-20-amd64 (debian-kernel@lists.debian.org) "
        "(gcc version 8.3.0 (Debian 8.3.0-6)) #1 SMP Debian 4.19.235-1 (2022-03-17)",
        Phase.BOOT,
    ),
    (
        "rsyslogd",
        ' [origin software="rsyslogd" swVersion="8.1901.0" x-pid="390" '
        'x-info="https://www.rsyslog.com"] exiting on signal 15.',
        Phase.SHUTDOWN,
    ),
    # elemoine_kern.log (Ubuntu 14.04, suspend/resume)
    ("kernel", "[39489.243719] PM: Syncing filesystems ... done.", Phase.SUSPEND),
    ("kernel", "[39489.250420] PM: Preparing system for mem sleep", Phase.SUSPEND),
    ("kernel", "[39495.512001] PM: Finishing wakeup.", Phase.RESUME),
    # the programs' well-known wording
    ("kernel", "EXT4-fs (sda1): recovery complete", Phase.FS_RECOVERY),
    ("kernel", "XFS (sda1): Starting recovery (logdev: internal)", Phase.FS_RECOVERY),
    ("kernel", "reboot: Restarting system", Phase.SHUTDOWN),
    ("systemd", "Reached target Shutdown.", Phase.SHUTDOWN),
    ("systemd-journald", "Journal stopped", Phase.SHUTDOWN),
    ("systemd", "Stopped target Multi-User System.", Phase.SHUTDOWN),
    ("systemd-logind", "System is rebooting.", Phase.SHUTDOWN),
    ("systemd", "systemd 241 running in system mode. (+PAM +AUDIT +SELINUX)", Phase.BOOT),
    # newer kernels and systemd (5.x, systemd 250+)
    ("kernel", "[ 5012.118630] Filesystems sync: 0.012 seconds", Phase.SUSPEND),
    ("kernel", "[ 5013.400187] ACPI: PM: Low-level resume complete", Phase.RESUME),
    ("systemd-sleep", "Entering sleep state 'suspend'...", Phase.SUSPEND),
    ("systemd-sleep", "System returned from sleep state.", Phase.RESUME),
]

NOT_A_PHASE = [
    # loghub: the X font server's and other init scripts' lines at a planned reboot
    ("xfs", "xfs shutdown failed"),
    ("xfs", "xfs shutdown succeeded"),
    ("syslog", "klogd shutdown succeeded"),
    ("ntpd", "ntpd exiting on signal 15"),
    ("unknown", "syslogd 1.4.1: restart."),
    # plemma: the daily HUP and rsyslog's start are no stop
    (
        "rsyslogd",
        ' [origin software="rsyslogd" swVersion="8.1901.0" x-pid="390" '
        'x-info="https://www.rsyslog.com"] rsyslogd was HUPed',
    ),
    ("systemd", "Reached target Basic System."),
    ("systemd", "Stopped target Basic System."),  # a user manager at logout
    ("systemd", "Stopping System Logging Service..."),  # also a mere restart of rsyslog
    ("kernel", "[    2.718081] raid6: using avx512x2 recovery algorithm"),
    # elemoine: the boot's own mounts and power-management notes
    ("kernel", "[    1.820348] EXT4-fs (sda1): mounted filesystem with ordered data mode."),
    ("kernel", "[    1.402631] PM: Hibernation image not present or could not be loaded."),
    # the same words from a program that does not write them
    ("nginx", "Linux version 6.1 (gcc)"),
    ("myapp", "Reached target Shutdown."),
    ("kernel", "Journal stopped"),
]


@pytest.mark.parametrize(("service", "line", "phase"), REAL, ids=[r[1][:40] for r in REAL])
def test_a_real_line_marks_its_phase_raw_and_as_a_template(
    service: str, line: str, phase: Phase
) -> None:
    assert phase_of(service, line) is phase
    assert phase_of(service, TemplateMiner().add(line).template) is phase


@pytest.mark.parametrize("line", ["[ 1234.567890] ", "[12345.678901] ", ""])
def test_the_kernel_uptime_prefix_is_optional(line: str) -> None:
    assert phase_of("kernel", line + "Linux version 6.1.0-9-amd64 (debian@x) (gcc)") is Phase.BOOT


@pytest.mark.parametrize(("service", "line"), NOT_A_PHASE, ids=[r[1][:40] for r in NOT_A_PHASE])
def test_other_lines_and_other_programs_mark_no_phase(service: str, line: str) -> None:
    assert phase_of(service, line) is None


def test_shutdown_writers_are_init_and_the_syslog_daemon_not_an_untagged_line() -> None:
    assert {"systemd", "init", "shutdown", "rsyslogd", "syslogd"} <= SHUTDOWN_WRITERS
    assert writes_shutdown("rsyslogd") and writes_shutdown("systemd")
    assert not writes_shutdown("unknown") and not writes_shutdown("kernel")


def test_pid_1_reexecuting_is_told_apart_from_a_boot() -> None:
    assert reexecutes("systemd", "Reexecuting.")
    assert not reexecutes("systemd", "Reloading.")
    assert not reexecutes("myapp", "Reexecuting.")
