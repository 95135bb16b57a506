"""The synthetic machines' life: quiet nights, clean and unclean reboots, boot-only daemons, suspend.

Each kind must write what the real software writes at that moment, and nothing
of the other hosts may change.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from logvigil.evaluation.synth import DEMO_START, Fault, FaultKind, Line, generate
from logvigil.evaluation.synth.machines import BOOT_READY

M = timedelta(minutes=1)
T0 = DEMO_START + timedelta(hours=2)
DEBIAN_BANNER = (
    "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) "
    "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 "
    "(2024-02-01)"
)
#: What a clean stop writes and a crash never does.
SHUTDOWN_MARKERS = (
    "System is rebooting.",
    "Reached target shutdown.target - System Shutdown.",
    "Shutting down.",
    "Journal stopped",
)
RECOVERY = re.compile(r"^EXT4-fs \(sda2\): (?:recovery complete|orphan cleanup on readonly fs)$")


def lines(minutes: int, *faults: Fault, seed: int = 7) -> list[Line]:
    return list(generate(minutes, start=DEMO_START, seed=seed, faults=faults))


def on(ls: list[Line], host: str, start, end) -> list[Line]:
    return [ln for ln in ls if ln.host == host and start <= ln.ts < end]


def is_night(ln: Line) -> bool:
    return ln.ts.hour >= 23 or ln.ts.hour < 7


def test_a_day_only_service_is_silent_from_23_to_7_and_nothing_else_changes() -> None:
    f = Fault("day", FaultKind.NIGHT_QUIET, DEMO_START, timedelta(hours=30), service="nextcloud")
    plain, quiet = lines(30 * 60), lines(30 * 60, f)
    assert sum(ln.inventory_service == "nextcloud" and is_night(ln) for ln in plain) > 20
    assert not [ln for ln in quiet if ln.inventory_service == "nextcloud" and is_night(ln)]
    by_day = [ln for ln in quiet if ln.inventory_service == "nextcloud"]
    assert {ln.ts.hour for ln in by_day} >= set(range(8, 23))
    assert quiet == [
        ln for ln in plain if not (ln.inventory_service == "nextcloud" and is_night(ln))
    ]
    assert f.expected() is None and not f.kind.pages


def test_a_clean_reboot_is_systemds_whole_shutdown_then_a_boot() -> None:
    f = Fault("update", FaultKind.CLEAN_REBOOT, T0, 2 * M, host="db-01")
    plain, ls = lines(4 * 60), lines(4 * 60, f)
    reboot = on(ls, "db-01", T0, T0 + 3 * M)
    messages = [ln.message for ln in reboot]
    order = [messages.index(m) for m in (*SHUTDOWN_MARKERS, DEBIAN_BANNER)]
    assert order == sorted(order)
    stopped = next(ln.ts for ln in reboot if ln.message == "Journal stopped")
    assert not on(ls, "db-01", stopped + timedelta(microseconds=1), T0 + 2 * M)
    boot = [ln for ln in reboot if ln.ts >= T0 + 2 * M]
    assert boot[0].message == DEBIAN_BANNER and boot[0].service == "kernel"
    assert any(
        ln.service == "systemd"
        and ln.message.startswith("systemd 252.22-1~deb12u1 running in system mode (")
        for ln in boot
    )
    assert "database system was shut down at 2026-03-02 02:00:00 UTC" in messages
    started = [ln for ln in boot if ln.message.startswith("Started postgresql@15-main.service - ")]
    assert [ln.inventory_service for ln in started] == ["postgres"]
    assert not [ln for ln in reboot if RECOVERY.match(ln.message)]  # clean: no journal replay
    assert {ln.severity for ln in reboot} <= {"info", "notice", "warning"}
    # the host's services log again once booted, and no other host noticed anything
    after = on(ls, "db-01", T0 + 2 * M + BOOT_READY, T0 + 10 * M)
    assert sum(ln.message.startswith("connection authorized") for ln in after) >= 5
    assert [ln for ln in ls if ln.host != "db-01"] == [ln for ln in plain if ln.host != "db-01"]


def test_an_unclean_reboot_boots_with_no_shutdown_and_replays_the_journal() -> None:
    f = Fault("crash", FaultKind.UNCLEAN_REBOOT, T0, 5 * M, host="db-01")
    ls = lines(4 * 60, f)
    before = on(ls, "db-01", T0 - 30 * M, T0 + 5 * M)
    assert before and before[-1].ts < T0  # the lines stop mid-stream...
    assert not [ln for ln in before if ln.message in SHUTDOWN_MARKERS]  # ...with no shutdown
    boot = on(ls, "db-01", T0 + 5 * M, T0 + 6 * M)
    messages = [ln.message for ln in boot]
    assert messages[0] == DEBIAN_BANNER
    assert "EXT4-fs (sda2): recovery complete" in messages
    assert "EXT4-fs (sda2): orphan cleanup on readonly fs" in messages
    assert messages.index("EXT4-fs (sda2): recovery complete") < messages.index(
        "EXT4-fs (sda2): mounted filesystem with ordered data mode. Quota mode: none."
    )
    assert any("system.journal corrupted or uncleanly shut down" in m for m in messages)
    assert "database system was not properly shut down; automatic recovery in progress" in messages
    assert f.expected() == {
        "id": "crash",
        "kind": "unclean_reboot",
        "host": "db-01",
        "at": "2026-03-02T02:05:00Z",  # told at the boot
        "end": "2026-03-02T02:06:00Z",
    }


def test_only_the_ubuntu_nas_runs_daemons_that_log_at_boot_only() -> None:
    nas = Fault("nas", FaultKind.CLEAN_REBOOT, T0, 2 * M, host="nas-01")
    web = Fault("web", FaultKind.CLEAN_REBOOT, T0 + 10 * M, 2 * M, host="web-01")
    plain, ls = lines(4 * 60), lines(4 * 60, nas, web)
    boot_only = {"cloud-init", "multipathd", "udisksd", "apport"}
    theirs = [ln for ln in ls if ln.service in boot_only]
    assert {ln.service for ln in theirs} == boot_only
    assert all(ln.host == "nas-01" and T0 <= ln.ts < T0 + 3 * M for ln in theirs)
    assert not [ln for ln in plain if ln.service in boot_only]
    messages = [ln.message for ln in theirs]
    finished = re.compile(
        r"^Cloud-init v\. 23\.1\.1-0ubuntu0~22\.04\.1 finished at Mon, 02 Mar 2026 02:02:\d\d "
        r"\+0000\. Datasource DataSourceNone\.  Up \d+\.\d\d seconds$"
    )
    assert [m for m in messages if finished.match(m)]
    assert "----------start up----------" in messages and "--------shut down-------" in messages
    assert "udisks daemon version 2.9.4 starting" in messages
    assert " * Starting automatic crash report generation: apport" in messages
    # each systemd speaks its own version: 249 names the description only, 252 the unit too
    systemd = {ln.message for ln in ls if ln.service == "systemd"}
    assert "Started NFS server and services." in systemd
    assert (
        "Started nginx.service - A high performance web server and a reverse proxy server."
        in systemd
    )


def test_a_suspend_holds_the_hosts_lines_until_the_resume() -> None:
    f = Fault("sleep", FaultKind.SUSPEND, T0, 60 * M, host="nas-01")
    plain, ls = lines(4 * 60), lines(4 * 60, f)
    going = on(ls, "nas-01", T0, T0 + M)
    assert [ln.message for ln in going][:1] == ["The system will suspend now!"]
    assert {"Suspending system...", "PM: suspend entry (deep)"} <= {ln.message for ln in going}
    assert not on(ls, "nas-01", T0 + M, T0 + 60 * M)
    back = on(ls, "nas-01", T0 + 60 * M, T0 + 61 * M)
    messages = [ln.message for ln in back]
    for m in ("ACPI: PM: Low-level resume complete", "PM: suspend exit", "System resumed."):
        assert m in messages
    # the kernel's freeze lines were held while user space slept: they carry the resume's time
    frozen = [ln for ln in back if ln.message.startswith("Freezing user space processes ... ")]
    assert len(frozen) == 1 and frozen[0].ts >= T0 + 60 * M
    assert not [ln for ln in ls if ln.message.startswith("Linux version")]  # not a reboot
    assert on(ls, "nas-01", T0 + 61 * M, T0 + 90 * M)  # its services log again
    asleep = on(plain, "nas-01", T0, T0 + 60 * M + timedelta(seconds=5))
    assert Counter(plain) - Counter(ls) == Counter(asleep)  # nothing else is missing


def test_the_machines_ordinary_life_does_not_page_and_a_crash_does() -> None:
    background = {
        FaultKind.NIGHT_QUIET,
        FaultKind.CLEAN_REBOOT,
        FaultKind.SUSPEND,
        FaultKind.SSHD_SCAN,
        FaultKind.NOISE_BURST,
        FaultKind.BENIGN_WARNING,
    }
    assert {k for k in FaultKind if not k.pages} == background
    assert {k for k in FaultKind if k.on_host} == {
        FaultKind.SILENT_HOST,
        FaultKind.NOISE_BURST,
        FaultKind.CLEAN_REBOOT,
        FaultKind.UNCLEAN_REBOOT,
        FaultKind.SUSPEND,
        FaultKind.SSHD_SCAN,
    }
