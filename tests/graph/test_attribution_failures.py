"""Attribution without an inventory follows what the line says: a unit systemd reports
failing goes to the unit, an OOM kill (old and new kernel wording) to its victim.

Lines are quoted from ../shared/data/real_logs (plemma_syslog.log 05-22 22:53:42,
loghub_Linux_full.log 11-15) or are systemd's and the kernel's well-known wording.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.attribution import attribute, failed_unit, oom_victim, unit_name, upstart_job
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
    e = event("kernel", line, "combo")
    v = oom_victim(e)
    assert v is not None and (v.pid, v.process) == (pid, victim)
    assert attribute(e, EMPTY) == victim


def test_the_process_that_invoked_the_oom_killer_stays_with_the_kernel() -> None:
    e = event("kernel", "httpd invoked oom-killer: gfp_mask=0xd0, order=0, oomkilladj=0", "combo")
    assert attribute(e, EMPTY) == "kernel"


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
