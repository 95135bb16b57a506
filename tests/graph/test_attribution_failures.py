"""Attribution without an inventory follows what the line says: a unit systemd reports
failing goes to the unit, an OOM kill (old and new kernel wording) to its victim, the
kernel's report of a segfault or a general protection fault to the process that crashed.

Lines are quoted from ../shared/data/real_logs (plemma_syslog.log 05-22 22:53:42,
loghub_Linux_full.log 11-15) or are systemd's and the kernel's well-known wording.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from graph.attribution import (
    Victim,
    attribute,
    failed_unit,
    fault_victim,
    oom_victim,
    unit_name,
    upstart_job,
)
from graph.inventory import Inventory
from logvigil.core.events import LogEvent, Severity

TS = datetime(2022, 5, 22, 22, 53, 42, tzinfo=UTC)
EMPTY = Inventory.model_validate({})


def event(service: str, message: str, host: str = "vultr", **attributes: str) -> LogEvent:
    return LogEvent(TS, host, service, Severity.INFO, message, attributes=attributes)


UNIT_FAILURES = [
    "cyrus-imapd.service: Failed with result 'exit-code'.",  # plemma
    "cyrus-imapd.service: Main process exited, code=exited, status=78/CONFIG",  # plemma
    "cyrus-imapd.service: Start request repeated too quickly.",
    "cyrus-imapd.service: Scheduled restart job, restart counter is at 5.",
    "cyrus-imapd.service: Failed to execute command: No such file or directory",
    "cyrus-imapd.service: Main process exited, code=killed, status=9/KILL",
    "Unit cyrus-imapd.service entered failed state.",  # systemd before v236
    "cyrus-imapd.service failed.",
    "cyrus-imapd.service holdoff time over, scheduling restart.",
]


@pytest.mark.parametrize("line", UNIT_FAILURES)
def test_a_unit_systemd_reports_failing_is_the_subject_without_an_inventory(line: str) -> None:
    e = event("systemd", line)
    assert failed_unit(e) == "cyrus-imapd.service"
    assert attribute(e, EMPTY) == "cyrus-imapd"


def test_journalds_unit_field_names_the_unit_of_failed_to_start() -> None:
    e = event(
        "systemd",
        "Failed to start Cyrus IMAP/POP3 daemon.",
        SYSLOG_IDENTIFIER="systemd",
        _SYSTEMD_UNIT="init.scope",
        UNIT="cyrus-imapd.service",
    )
    assert attribute(e, EMPTY) == "cyrus-imapd"


def test_a_declared_unit_goes_to_its_declared_service(homelab: Inventory) -> None:
    e = event("systemd", "postgresql@15-main.service: Failed with result 'exit-code'.", "db-01")
    assert attribute(e, homelab) == "postgres"


@pytest.mark.parametrize(
    ("service", "line"),
    [
        ("systemd", "Started Cyrus IMAP/POP3 daemon."),
        ("systemd", "Failed to start Cyrus IMAP/POP3 daemon."),  # syslog: no UNIT= to say which
        ("systemd", "nginx.service: Main process exited, code=exited, status=0/SUCCESS"),
        ("systemd", "cyrus-imapd.service: Succeeded."),
        ("systemd", "nginx.service: Failed to reset devices.list: Operation not permitted"),
        ("systemd", "Reached target Shutdown."),
        ("myapp", "cyrus-imapd.service: Failed with result 'exit-code'."),
    ],
)
def test_other_systemd_lines_and_other_programs_keep_their_service(service: str, line: str) -> None:
    assert attribute(event(service, line), EMPTY) == service


def test_a_unit_of_another_type_keeps_its_suffix() -> None:
    assert unit_name("cyrus-imapd.service") == "cyrus-imapd"
    assert unit_name("mnt-data.mount") == "mnt-data.mount"
    e = event("systemd", "mnt-data.mount: Failed with result 'exit-code'.")
    assert attribute(e, EMPTY) == "mnt-data.mount"


@pytest.mark.parametrize(
    ("line", "pid", "victim"),
    [
        # loghub_Linux_full.log, 11-15 04:30:29 (kernel 2.6.5)
        ("Out of Memory: Killed process 28473 (httpd).", 28473, "httpd"),
        # mm/oom_kill.c before 4.19
        ("Out of memory: Kill process 1234 (httpd) score 500 or sacrifice child", 1234, "httpd"),
        (
            "Killed process 1234 (httpd) total-vm:1024kB, anon-rss:512kB, file-rss:0kB",
            1234,
            "httpd",
        ),
    ],
)
def test_an_oom_kill_in_any_kernel_wording_goes_to_its_victim(
    line: str, pid: int, victim: str
) -> None:
    assert_kernel_line_names(oom_victim, line, pid, victim)


def assert_kernel_line_names(
    find: Callable[[LogEvent], Victim | None], line: str, pid: int, process: str
) -> None:
    """`find` reads process `pid` in the kernel's `line`, which is attributed to it."""
    e = event("kernel", line, "combo")
    v = find(e)
    assert v is not None and (v.pid, v.process) == (pid, process)
    assert attribute(e, EMPTY) == process


def test_the_process_that_invoked_the_oom_killer_stays_with_the_kernel() -> None:
    e = event("kernel", "httpd invoked oom-killer: gfp_mask=0xd0, order=0, oomkilladj=0", "combo")
    assert attribute(e, EMPTY) == "kernel"


# The kernel's report of a user process killed by a fault, as each kernel writes it
# (arch/x86/mm/fault.c show_signal_msg, arch/x86/kernel/traps.c); the uptime prefix is a
# field by then.
FAULTS = [
    (
        "nginx[2211]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1c2b3a40 error 4 in "
        "libc.so.6[7f3a2b000000+195000]",
        2211,
        "nginx",
    ),
    # a name with a space (Firefox's content process), cut to 15 characters by the kernel
    (
        "Web Content[3199]: segfault at 8 ip 00007f2b1c4d5e6f sp 00007ffc1a2b3c40 error 4 in "
        "libxul.so[7f2b18000000+5a00000]",
        3199,
        "Web Content",
    ),
    # x86_64 kernels of 2.6.18 (RHEL 5) named the registers rip and rsp
    (
        "httpd[28473]: segfault at 0000000000000000 rip 00002aaaab0c1d2e rsp 00007fff5a4b3c20 "
        "error 4",
        28473,
        "httpd",
    ),
    (
        "traps: php-fpm[811] general protection fault ip:55d0c0a1b2c3 sp:7ffc1a2b3c40 error:0 "
        "in php-fpm[55d0c0a00000+2a0000]",
        811,
        "php-fpm",
    ),
    # 3.x and 4.x: "general protection" without "fault"; 2.6: without "traps: "
    ("traps: php[77] general protection ip:7f1a2b sp:7ffd1c error:0 in libc-2.19.so", 77, "php"),
    (
        "php[77] general protection ip:7f1a2b sp:7ffd1c error:0 in libc-2.5.so[7f1a+14d000]",
        77,
        "php",
    ),
    (
        "traps: a.out[4242] trap invalid opcode ip:55d0c0a1 sp:7ffc1a2b error:0 in a.out",
        4242,
        "a.out",
    ),
    ("traps: node[90] trap divide error ip:55d0c0a1 sp:7ffc1a2b error:0 in node", 90, "node"),
    # a reader that left the kernel's uptime in front
    (
        "[ 8765.432100] nginx[2211]: segfault at 0 ip 000055d0c0a1 sp 00007ffd12 error 4",
        2211,
        "nginx",
    ),
]


@pytest.mark.parametrize(("line", "pid", "process"), FAULTS)
def test_a_process_the_kernel_reports_killed_by_a_fault_is_the_subject(
    line: str, pid: int, process: str
) -> None:
    assert_kernel_line_names(fault_victim, line, pid, process)


def test_a_crashed_process_goes_to_the_service_that_runs_it(homelab: Inventory) -> None:
    line = "redis-server[977]: segfault at 10 ip 000055d0c0a1b2c3 sp 00007ffd1c2b3a40 error 4"
    assert attribute(event("kernel", line, "db-01"), homelab) == "redis"
    # no redis on web-01: the process keeps its name
    assert attribute(event("kernel", line, "web-01"), homelab) == "redis-server"


@pytest.mark.parametrize(
    ("service", "line"),
    [
        # the same words in a program's own line: only the kernel's report names a victim
        ("app", "nginx[2211]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1c2b3a40 error 4"),
        # the shell's report of its child, and a program quoting a fault
        ("kernel", "a test reports nginx[2211]: segfault at 0 ip 1 sp 2 error 4"),
        # a pid that is no number (a masked template's, pasted back) and a name longer
        # than the kernel's 15 characters: not its report
        ("kernel", "nginx[<*>]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1c2b3a40 error 4"),
        ("kernel", "a-process-name-x[12]: segfault at 0 ip 00007f3a2b1c sp 00007ffd1c2b error 4"),
        # 100,000 characters of fault words without a report's start
        ("kernel", "x" * 20 + " segfault at 0 ip ip:" * 5000),
        # a kernel-mode fault is an oops, not a process killed
        (
            "kernel",
            "general protection fault, probably for non-canonical address 0xdead: 0000 [#1]",
        ),
        # a firewall's kernel line (plemma_syslog.log): no victim, and read cheaply
        (
            "kernel",
            "[UFW BLOCK] IN=ens3 OUT= MAC=56:00:03:7a:1b:2c SRC=45.148.10.81 DST=45.76.91.12 "
            "LEN=40 TOS=0x00 PREC=0x00 TTL=244 ID=54321 PROTO=TCP SPT=58614 DPT=8443 WINDOW=1024",
        ),
    ],
)
def test_other_lines_name_no_crashed_process(service: str, line: str) -> None:
    e = event(service, line, "web-01")
    assert fault_victim(e) is None
    assert attribute(e, EMPTY) == service


# Upstart (init/job_process.c, job.c) reports a job's process ending badly, the job
# first; it writes to the kernel's log buffer, so syslog shows `init` or `kernel`.
UPSTART_FAILURES = [
    ("init", "mysql main process (1234) killed by SEGV signal"),
    ("init", "mysql main process (1234) terminated with status 1"),
    ("init", "mysql post-start process (1240) terminated with status 2"),
    ("init", "mysql respawning too fast, stopped"),
    ("kernel", "init: mysql main process (1234) killed by ABRT signal"),
    ("kernel", "init: mysql (default) main process (1234) killed by SEGV signal"),
]


@pytest.mark.parametrize(("service", "line"), UPSTART_FAILURES)
def test_a_job_upstart_reports_ending_badly_is_the_subject(service: str, line: str) -> None:
    assert upstart_job(event(service, line)) == "mysql"
    assert attribute(event(service, line), EMPTY) == "mysql"


def test_an_upstart_job_goes_to_the_service_declaring_it(homelab: Inventory) -> None:
    e = event("init", "postgresql main process (811) killed by SEGV signal", "db-01")
    assert attribute(e, homelab) == "postgres"


@pytest.mark.parametrize(
    ("service", "line"),
    [
        ("init", "Switching to runlevel: 6"),  # loghub: sysvinit's init
        ("init", "open(/dev/pts/0): No such file or directory"),  # loghub
        ("init", "mysql main process ended, respawning"),
        ("kernel", "[    5.12] EXT4-fs (sda1): mounted filesystem with ordered data mode"),
        ("myapp", "mysql main process (1234) killed by SEGV signal"),
    ],
)
def test_other_init_lines_and_other_programs_keep_their_service(service: str, line: str) -> None:
    assert upstart_job(event(service, line)) is None
    assert attribute(event(service, line), EMPTY) == service


# systemd-oomd (src/oom/oomd-util.c) and PID 1 after it (src/core/unit.c)
def test_the_unit_systemd_oomd_killed_is_the_subject() -> None:
    e = event(
        "systemd-oomd",
        "Killed /user.slice/user-1000.slice/user@1000.service/app.slice/"
        "flatpak-session-helper.service due to memory pressure for /user.slice/"
        "user-1000.slice/user@1000.service/app.slice being 82.36% > 80.00% for > 20s with "
        "reclaim activity",
    )
    assert attribute(e, EMPTY) == "flatpak-session-helper"
    swap = event(
        "systemd-oomd",
        "Killed /system.slice/postgresql@15-main.service due to swap used (4294967296) / total (4294967296) being more than 90.00%",
        "db-01",
    )
    assert attribute(swap, EMPTY) == "postgresql@15-main"
    e = event(
        "systemd", "app-gnome-firefox-4321.scope: systemd-oomd killed 19 process(es) in this unit."
    )
    assert attribute(e, EMPTY) == "app-gnome-firefox-4321.scope"
    # its other lines stay its own
    e = event(
        "systemd-oomd", "Swap is currently not detected; memory pressure usage will be degraded"
    )
    assert attribute(e, EMPTY) == "systemd-oomd"
