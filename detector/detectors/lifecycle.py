"""A host's life cycle in its own words: boot, orderly shutdown, suspend, resume, journal replay.

Detectors that reason about a host's continuity (an unclean reboot is a boot with
no shutdown before it; a gap after a suspend or a shutdown is not a silence) need
to know which templates mark those moments. `phase_of(service, text)` answers for
one template, from the wording of the program that writes it, and only for that
program: "shutdown failed" from an init script is not a shutdown, and "exiting on
signal 15" is the syslog daemon's last line only when the syslog daemon says it.

Wording, by producer:

- **kernel** (`kernel` tag, any kernel): boot banner `Linux version 6.1.0-9-amd64
  (debian-kernel@...) (gcc ...)` (`init/version.c`), `Booting Linux on physical CPU`
  (arm); `reboot: Restarting system` / `reboot: Power down` (`kernel/reboot.c`,
  only seen on a console or a netconsole); suspend `PM: Syncing filesystems`,
  `PM: Preparing system for mem sleep`, `Freezing user space processes`,
  `PM: suspend entry` (`kernel/power/suspend.c`); resume `PM: Finishing wakeup`,
  `ACPI: Low-level resume complete`, `PM: suspend exit`; journal replay after a
  crash: `EXT3-fs: INFO: recovery required on readonly filesystem`,
  `EXT4-fs (sda1): recovery complete`, `orphan cleanup on readonly fs`,
  `XFS (sda1): Starting recovery (logdev: internal)`.
- **systemd** (PID 1): `Reached target Shutdown` / `System Shutdown` /
  `Final Step` / `System Reboot` / `System Power Off`, `Shutting down.`,
  and before them `Stopped target Multi-User System` / `Graphical Interface`
  (what a remote syslog still receives before the network goes down);
  `systemd-shutdown[1]: ...`; `systemd-journald: Journal stopped`;
  `systemd-sleep: Suspending system...` and `System resumed.`; boot:
  `systemd 252.6-1 running in system mode` (the first line PID 1 writes). PID 1
  writes that line again when it re-executes itself in place (`systemctl
  daemon-reexec`, an upgrade of systemd), right after `Reexecuting.`: not a boot
  (`reexecutes`).
- **sysvinit / Upstart**: `shutdown: shutting down for system reboot|halt`,
  `init: Switching to runlevel: 0|6`.
- **journalctl** (its text output, `logvigil.ingest.formats.journalctl`): the marker
  `-- Boot 6a5c7c1e0f4d4d8e9b1d1f0e2a3b4c5d --` (`-- Reboot --` in older versions)
  that journalctl prints before the first entry of each boot after the first
  (`src/journal/journalctl.c`): the boot ID changed, so the host booted. The reader
  gives it the service `journalctl` and the host and time of that first entry.
- **syslog daemons** (their last line when stopped): sysklogd's klogd `Kernel
  logging (proc) stopped.` / `Kernel log daemon terminating.`; sysklogd's syslogd
  writes `exiting on signal 15` *without a tag* (it logs through its own
  `logmsg`, hence no identifier: service `unknown` or `syslogd`); rsyslogd
  `[origin software="rsyslogd" ...] exiting on signal 15.`

The texts are template texts (variables masked to `<*>`) or raw messages; a
kernel uptime prefix (`[    0.000000] `) is skipped if a reader left one.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Phase(StrEnum):
    """What a template says about the host's life cycle."""

    BOOT = "boot"
    SHUTDOWN = "shutdown"
    SUSPEND = "suspend"
    RESUME = "resume"
    #: A file system replays its journal: the previous stop was not clean.
    FS_RECOVERY = "fs_recovery"


#: Services whose lines are the kernel's own.
KERNEL = frozenset({"kernel", "klogd", "kern"})
#: PID 1 and its helpers under their usual identifiers.
SYSTEMD = frozenset(
    {"systemd", "systemd-shutdown", "systemd-journald", "systemd-sleep", "systemd-logind"}
)
SYSV = frozenset({"init", "shutdown", "upstart"})
#: journalctl's own marker lines (the service its text-output reader gives them).
JOURNALCTL = frozenset({"journalctl"})
#: The syslog daemon itself; sysklogd's syslogd writes its exit line untagged.
SYSLOGD = frozenset({"syslogd", "rsyslogd", "syslog-ng", "unknown"})

#: Services that write a shutdown sequence when the host stops cleanly: a host that has
#: logged any of them is expected to log its shutdown before a boot.
SHUTDOWN_WRITERS = SYSTEMD | SYSV | SYSLOGD - {"unknown"}

_PREFIX = r"^(?:\[\s*(?:\d+\.\d+|<\*>)\]\s*)?"


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(_PREFIX + "(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


_KERNEL: tuple[tuple[Phase, re.Pattern[str]], ...] = (
    (Phase.BOOT, _rx(r"Linux version \S+ \(", r"Booting Linux on physical CPU")),
    (Phase.SHUTDOWN, _rx(r"reboot: (?:Restarting system|Power down|System halted)")),
    (
        Phase.SUSPEND,
        _rx(
            r"PM: Syncing filesystems",
            r"PM: Preparing system for \S+ sleep",
            r"Freezing user space processes",
            r"PM: suspend entry",
            r"PM: hibernation entry",
            # kernels since 5.x: "Filesystems sync: 0.012 seconds" replaced "PM: Syncing"
            r"Filesystems sync: ",
        ),
    ),
    (
        Phase.RESUME,
        _rx(
            r"PM: Finishing wakeup",
            # "ACPI: PM: Low-level resume complete" since 5.x
            r"ACPI: (?:PM: )?Low-level resume complete",
            r"PM: suspend exit",
        ),
    ),
    (
        Phase.FS_RECOVERY,
        _rx(
            r"EXT[234]-fs(?: \([^)]*\))?: (?:INFO: )?recovery (?:required|complete)",
            r"EXT[234]-fs(?: \([^)]*\))?: \S+: orphan cleanup on readonly fs",
            r"EXT[234]-fs(?: \([^)]*\))?: orphan cleanup on readonly fs",
            r"XFS \([^)]*\): Starting recovery",
        ),
    ),
    # klogd prefixes its own two last lines with the kernel tag.
    (Phase.SHUTDOWN, _rx(r"Kernel logging \(proc\) stopped", r"Kernel log daemon terminating")),
)

_SYSTEMD: tuple[tuple[Phase, re.Pattern[str]], ...] = (
    (
        Phase.SHUTDOWN,
        _rx(
            r"Reached target (?:System )?(?:Shutdown|Final Step|Reboot|Power[- ]Off|Halt)\b",
            r"Shutting down\.$",
            r"Journal stopped",
            r"Syncing filesystems and block devices",
            r"System is (?:rebooting|powering down|halting)",
            # the first lines of a shutdown that a remote syslog still receives (PID 1
            # only: a user manager has no multi-user or graphical target)
            r"Stopped target (?:Multi-User System|Graphical Interface)\b",
        ),
    ),
    # systemd-sleep; since systemd 250 "Entering sleep state 'suspend'..." and
    # "System returned from sleep state."
    (Phase.SUSPEND, _rx(r"Suspending system", r"Reached target Sleep\b", r"Entering sleep state")),
    (
        Phase.RESUME,
        _rx(r"System resumed", r"Stopped target Sleep\b", r"System returned from sleep state"),
    ),
    (Phase.BOOT, _rx(r"systemd \S+ running in system mode")),
)

_SYSV: tuple[tuple[Phase, re.Pattern[str]], ...] = (
    (
        Phase.SHUTDOWN,
        _rx(
            r"shutting down for system (?:reboot|halt)",
            # the miner masks the digit: a runtime switch to another runlevel is rare
            r"Switching to runlevel: (?:[06]\b|<\*>)",
        ),
    ),
)

# the boot ID is 32 lower-case hex digits (SD_ID128_FORMAT_STR); the miner masks it.
_JOURNALCTL: tuple[tuple[Phase, re.Pattern[str]], ...] = (
    (Phase.BOOT, _rx(r"-- Boot (?:[0-9a-f]{32}|<\*>) --$", r"-- Reboot --$")),
)

_SYSLOGD: tuple[tuple[Phase, re.Pattern[str]], ...] = (
    (Phase.SHUTDOWN, re.compile(r"(?:^|\] )exiting on signal (?:15|<\*>)\.?$", re.IGNORECASE)),
)


def phase_of(service: str, text: str) -> Phase | None:
    """The life-cycle phase `text` (a template or a message of `service`) marks, or None."""
    if service in KERNEL:
        rules = _KERNEL
    elif service in SYSTEMD:
        rules = _SYSTEMD
    elif service in SYSV:
        rules = _SYSV
    elif service in SYSLOGD:
        rules = _SYSLOGD
    elif service in JOURNALCTL:
        rules = _JOURNALCTL
    else:
        return None
    for phase, rx in rules:
        if rx.search(text):
            return phase
    return None


def writes_shutdown(service: str) -> bool:
    """Whether `service` logs a shutdown sequence when its host stops cleanly."""
    return service in SHUTDOWN_WRITERS


_REEXEC = _rx(r"Reexecuting\b")


def reexecutes(service: str, text: str) -> bool:
    """Whether `text` is PID 1 re-executing itself in place (`Reexecuting.`): its next
    `running in system mode` line follows no boot (src/core/main.c logs it on every
    start of the manager's binary, a re-execution included)."""
    return service in SYSTEMD and _REEXEC.search(text) is not None


__all__ = [
    "JOURNALCTL",
    "KERNEL",
    "SHUTDOWN_WRITERS",
    "Phase",
    "phase_of",
    "reexecutes",
    "writes_shutdown",
]
