"""A dying disk, a cooked host, a program out of memory, a crashing Upstart job, a
segfaulting program and a panicking Go service each page once, end to end: syslog and application lines through
the reader, attribution, the primitive detector and the incident manager, as
`logvigil backtest` replays them.

The wording is the producing programs' own (smartmontools' smartd.cpp, the kernel's
drivers/thermal/thermal_core.c, systemd's shutdown, log4j's default layout with the
JVM's `java.lang.OutOfMemoryError`, Upstart's init/job_process.c and job.c, the
kernel's arch/x86/mm/fault.c and arch/x86/kernel/traps.c, Go's
runtime in Docker's json-file log, MySQL 5.5's error log)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine

from investigate.service import load_report
from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.ingest.formats import input_options

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
READ_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def syslog(t: datetime, tag: str, message: str, host: str = "nas") -> bytes:
    return f"{t:%b %e %H:%M:%S} {host} {tag}: {message}\n".encode()


def replay(lines: list[bytes], name: str = "syslog", db_url: str | None = None) -> list[dict]:
    options = dataclasses.replace(input_options(name, default_time=READ_AT), year=2026)
    return run_backtest(
        lines, fmt="auto", inventory=empty_inventory(), read_options=options, db_url=db_url
    ).incidents


def z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def routine(start: datetime, minutes: int) -> list[bytes]:
    """A quiet NAS: cron every five minutes, smartd's attribute notes every half hour."""
    out = []
    for m in range(0, minutes, 5):
        t = start + m * MIN
        out.append(syslog(t, f"CRON[{4000 + m}]", "(root) CMD (/usr/local/bin/backup-check)"))
        if m % 30 == 0:
            out.append(
                syslog(
                    t + timedelta(seconds=7),
                    "smartd[811]",
                    "Device: /dev/sdb [SAT], SMART Usage Attribute: 194 Temperature_Celsius "
                    f"changed from {38 + m % 2} to {39 - m % 2}",
                )
            )
    return out


def test_smartds_pending_sectors_page_once_while_they_repeat() -> None:
    lines = routine(T0, 4 * 60)
    failing = T0 + timedelta(hours=4)
    for k in range(0, 6):  # every half hour for three hours, as smartd checks
        t = failing + timedelta(minutes=30 * k, seconds=3)
        lines.append(syslog(t, "CRON[5000]", "(root) CMD (/usr/local/bin/backup-check)"))
        lines.append(
            syslog(
                t, "smartd[811]", "Device: /dev/sdb [SAT], 8 Currently unreadable (pending) sectors"
            )
        )
    (incident,) = replay(lines)
    (trigger,) = incident["triggers"]
    assert (trigger["detector"], trigger["service"], trigger["host"]) == (
        "primitive",
        "smartd",
        "nas",
    )
    assert "disk failing (SMART)" in trigger["summary"]
    assert incident["opened_at"] == z(failing + MIN)


def test_a_thermal_shutdown_pages_as_overheat_not_as_an_unclean_reboot() -> None:
    lines = routine(T0, 3 * 60)
    hot = T0 + timedelta(hours=3)
    lines += [
        syslog(
            hot,
            "kernel",
            "[10800.123456] thermal thermal_zone0: critical temperature "
            "reached (105 C), shutting down",
        ),
        syslog(hot + timedelta(seconds=1), "systemd[1]", "Stopped target Multi-User System."),
        syslog(hot + timedelta(seconds=2), "systemd[1]", "Reached target Shutdown."),
        syslog(
            hot + timedelta(seconds=3),
            "rsyslogd",
            '[origin software="rsyslogd" swVersion="8.2102.0" x-pid="700" '
            'x-info="https://www.rsyslog.com"] exiting on signal 15.',
        ),
    ]
    boot = hot + timedelta(minutes=6)
    lines += [
        syslog(
            boot,
            "kernel",
            "[    0.000000] Linux version 5.10.0-20-amd64 "
            "(debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110) "
            "#1 SMP Debian 5.10.158-2 (2022-12-13)",
        ),
        syslog(
            boot + timedelta(seconds=4),
            "systemd[1]",
            "systemd 247.3-7+deb11u1 running in system mode. (+PAM +AUDIT)",
        ),
    ]
    lines += routine(boot + timedelta(minutes=1), 60)
    (incident,) = replay(lines)
    (trigger,) = incident["triggers"]  # the boot after the power-off is a clean one
    assert trigger["detector"] == "primitive"
    assert trigger["summary"] == "kernel on nas: critical temperature, shut down (template #3)"
    assert incident["opened_at"] == z(hot + MIN)


def log4j(t: datetime, level: str, message: str) -> bytes:
    return f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {level} [main] {message}\n".encode()


def test_a_jvms_out_of_memory_error_pages_and_its_command_line_does_not() -> None:
    lines = [
        log4j(
            T0,
            "INFO",
            "o.a.c.s.VersionLoggerListener - Command line argument: "
            "-XX:+HeapDumpOnOutOfMemoryError",
        )
    ]
    lines += [
        log4j(T0 + timedelta(seconds=s), "INFO", f"c.e.orders.Api - order {s} accepted")
        for s in range(10, 3 * 3600, 20)
    ]
    oom = T0 + timedelta(hours=3)
    lines += [
        log4j(oom, "ERROR", "c.e.orders.Api - java.lang.OutOfMemoryError: Java heap space"),
        log4j(oom + timedelta(seconds=50), "INFO", "c.e.orders.Api - order 0 accepted"),
    ]
    (incident,) = replay(lines, "orders.log")
    (trigger,) = incident["triggers"]
    assert trigger["detector"] == "primitive"
    assert trigger["summary"].endswith(": out of memory (template #3)")
    assert incident["opened_at"] == z(oom + MIN)


def test_an_upstart_job_killed_by_segv_pages_naming_the_job() -> None:
    # Ubuntu 14.04: Upstart writes to the kernel's log buffer, so syslog files the
    # report under `kernel`; the job respawns, crashes again, and Upstart gives up.
    lines = routine(T0, 3 * 60)
    crash = T0 + timedelta(hours=3)
    for k in range(3):
        t = crash + timedelta(seconds=2 * k)
        lines.append(
            syslog(
                t,
                "kernel",
                f"[10800.{k}] init: mysql main process ({1200 + k}) killed by SEGV signal",
            )
        )
        lines.append(syslog(t, "kernel", f"[10800.{k}] init: mysql main process ended, respawning"))
    lines.append(
        syslog(
            crash + timedelta(seconds=7),
            "kernel",
            "[10807.1] init: mysql respawning too fast, stopped",
        )
    )
    lines += routine(crash + MIN, 30)
    (incident,) = replay(lines)
    assert incident["services"] == ["mysql"]
    assert incident["opened_at"] == z(crash + MIN)
    summaries = sorted(t["summary"] for t in incident["triggers"])
    assert [s.split(" (template")[0] for s in summaries] == [
        "mysql on nas: crashed",
        "mysql on nas: restart loop, the init system gave up",
    ]


CRASH = T0 + timedelta(hours=3)


def kernel_after_routine(*lines: tuple[timedelta, str]) -> list[bytes]:
    """Three hours of routine, the kernel's `lines` at CRASH plus their offsets, then
    half an hour of routine."""
    out = routine(T0, 3 * 60)
    out += [syslog(CRASH + at, "kernel", text) for at, text in lines]
    return out + routine(CRASH + 3 * MIN, 30)


def test_a_segfault_pages_naming_the_program_that_crashed_not_the_kernel() -> None:
    # The kernel reports each fault under its own tag; the incident names the programs
    # that crashed (two minutes apart on one host: one incident, grouped by host).
    lines = kernel_after_routine(
        (
            timedelta(0),
            "[10800.123456] php-fpm7.4[2345]: segfault at 0 ip 00007f3a2b1c4d5e sp "
            "00007ffd1c2b3a40 error 4 in libc-2.31.so[7f3a2b000000+178000]",
        ),
        (
            2 * MIN,
            "[10920.000001] traps: node[811] general protection fault ip:55d0c0a1b2c3 "
            "sp:7ffc1a2b3c40 error:0 in node[55d0c0a00000+2a0000]",
        ),
    )
    (incident,) = replay(lines)
    assert incident["services"] == ["node", "php-fpm7.4"]
    assert incident["suspected_root"]["service"] in {"node", "php-fpm7.4"}
    assert sorted(t["summary"].split(" (template")[0] for t in incident["triggers"]) == [
        "node on nas: segfault",
        "php-fpm7.4 on nas: segfault",
    ]


def test_a_segfaults_report_suggests_the_crashed_programs_unit_and_its_core_dumps(
    tmp_path,
) -> None:
    lines = kernel_after_routine(
        (
            timedelta(0),
            "[10800.123456] nginx[2211]: segfault at 0 ip 000055d0c0a1b2c3 sp 00007ffd1234abcd "
            "error 4 in nginx[55d0c0a00000+120000]",
        )
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    (incident,) = replay(lines, db_url=url)
    assert incident["suspected_root"] == {"service": "nginx", "host": "nas"}
    engine = create_engine(url)
    try:
        report = load_report(engine, int(incident["id"]))
    finally:
        engine.dispose()
    assert report is not None
    actions = "\n".join(report.suggested_actions)
    assert "`systemctl status nginx.service`" in actions
    assert "`journalctl -u nginx.service --since '2026-11-20 10:50'`" in actions
    assert "`coredumpctl list --since '2026-11-20 10:50'`" in actions


def docker(t: datetime, stream: str, text: str) -> bytes:
    """A line of Docker's json-file log driver."""
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return json.dumps({"log": text + "\n", "stream": stream, "time": stamp}).encode() + b"\n"


def test_a_go_service_panicking_in_its_container_log_pages_once() -> None:
    lines = [
        docker(T0 + timedelta(seconds=s), "stdout", f"GET /orders/{s} 200 {s % 90}ms")
        for s in range(0, 3 * 3600, 15)
    ]
    dead = T0 + timedelta(hours=3)
    # What Go's runtime writes to stderr as the process dies (printpanics, then the stack).
    for k, text in enumerate(
        [
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b1f2e]",
            "",
            "goroutine 42 [running]:",
            "main.(*Store).Get(0x0, {0xc000123456, 0x5})",
            "\t/src/store.go:88 +0x2e",
        ]
    ):
        lines.append(docker(dead + timedelta(microseconds=k), "stderr", text))
    lines += [
        docker(dead + timedelta(seconds=5 + s), "stdout", f"GET /orders/{s} 200 3ms")
        for s in range(0, 600, 15)
    ]
    (incident,) = replay(lines, "orders-api.log")
    (trigger,) = incident["triggers"]
    assert trigger["summary"].startswith("unknown on orders-api: crashed (template #")
    assert incident["opened_at"] == z(dead + MIN)


def mysql_err(t: datetime, text: str) -> bytes:
    """A line of MySQL 5.5's error log: yymmdd, the local hour padded with a blank."""
    return f"{t:%y%m%d} {t.hour:2d}:{t:%M:%S} {text}\n".encode()


def test_a_mysql_5_crash_in_its_error_log_pages_at_the_time_it_happened() -> None:
    # An error log of its own clock: before its stamps were read, every line was placed
    # at the time of reading, and the crash was found then, not when it happened.
    lines = [
        mysql_err(T0, "mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql"),
        mysql_err(T0 + timedelta(seconds=1), "[Note] Plugin 'FEDERATED' is disabled."),
        mysql_err(T0 + timedelta(seconds=1), " InnoDB: Initializing buffer pool, size = 128.0M"),
        mysql_err(T0 + timedelta(seconds=2), "[Note] /usr/sbin/mysqld: ready for connections."),
    ]
    lines += [
        mysql_err(
            T0 + timedelta(minutes=m),
            f"[Warning] Aborted connection {m} to db: 'shop' user: 'app' host: 'web-1' "
            "(Got an error reading communication packets)",
        )
        for m in range(10, 3 * 60, 10)
    ]
    crash = T0 + timedelta(hours=3)
    for k, text in enumerate(
        [
            "- mysqld got signal 11 ;",
            "mysqld_safe Number of processes running now: 0",
            "mysqld_safe mysqld restarted",
            "[Note] /usr/sbin/mysqld: ready for connections.",
        ]
    ):
        lines.append(mysql_err(crash + timedelta(seconds=k), text))
    (incident,) = replay(lines, "mysql.err")
    assert {t["detector"] for t in incident["triggers"]} == {"primitive"}
    assert all(": crashed (template #" in t["summary"] for t in incident["triggers"])
    assert incident["opened_at"] == z(crash + MIN)
