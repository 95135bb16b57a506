"""A replay evaluates every line whatever the clocks did: lines a little out of order,
a clock eight hours back, a line dated 2199, a boot logged in 1970 before NTP."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from logvigil.app.backtest import BacktestResult, run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.ingest.formats import input_options

T0 = datetime(2019, 4, 5, tzinfo=UTC)
READ_AT = datetime(2019, 4, 10, tzinfo=UTC)
M = timedelta(minutes=1)
# The kernel's OOM-killer line (mm/oom_kill.c, 5.x wording).
OOM = (
    "Out of memory: Killed process 2171 (firefox) total-vm:4152928kB, anon-rss:2048116kB, "
    "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:6720kB oom_score_adj:0"
)


def line(t: datetime, msg: str, host: str = "laptop", service: str = "kernel") -> bytes:
    return (
        json.dumps({"ts": t.isoformat(), "host": host, "service": service, "message": msg}) + "\n"
    ).encode()


def usb(t: datetime) -> bytes:
    return line(t, "usb 1-1: new high-speed USB device number 4 using xhci_hcd")


def replay(lines: list[bytes]) -> BacktestResult:
    return run_backtest(
        lines,
        fmt="jsonl",
        inventory=empty_inventory(),
        read_options=input_options("kern.jsonl", default_time=READ_AT, not_after=READ_AT),
    )


def steady(start: datetime, minutes: int) -> list[bytes]:
    return [usb(start + i * M) for i in range(minutes)]


def test_a_line_three_minutes_late_is_evaluated_in_its_own_minute() -> None:
    t = T0 + timedelta(hours=2)
    lines = [*steady(T0, 120), usb(t), usb(t + 2 * M), line(t - M, OOM), *steady(t + 3 * M, 20)]
    (incident,) = replay(lines).incidents
    assert "firefox" in incident["triggers"][0]["summary"]
    assert incident["triggers"][0]["at"] <= (t + M).isoformat().replace("+00:00", "Z")


def test_after_a_clock_eight_hours_back_every_line_is_evaluated() -> None:
    # elemoine's kern.log: the machine keeps its RTC in local time, its clock goes
    # back 8 h at a reboot. The OOM kill after the jump must page.
    t = T0 + timedelta(hours=3)
    back = t - timedelta(hours=8)
    lines = [
        *steady(T0, 180),
        *steady(back, 30),
        line(back + 31 * M, OOM),
        *steady(back + 32 * M, 5),
    ]
    result = replay(lines)
    assert [(j.host, round(j.by.total_seconds() / 3600)) for j in result.clock_jumps] == [
        ("laptop", 8)
    ]
    (jump,) = result.clock_findings  # information, never a page
    assert (jump.kind, jump.host, jump.severity.name) == ("clock_jump", "laptop", "INFO")
    assert "laptop's clock jumped back 8.0 h" in jump.summary
    (incident,) = result.incidents
    assert "firefox" in incident["triggers"][0]["summary"]
    assert incident["opened_at"] >= t.isoformat().replace("+00:00", "Z")


def test_a_line_dated_2199_is_rejected_counted_and_costs_nothing() -> None:
    plain = steady(T0, 90)
    odd = [
        *plain[:40],
        line(datetime(2199, 1, 1, tzinfo=UTC), "clock from the future"),
        *plain[40:],
    ]
    a, b = replay(plain), replay(odd)
    assert b.summary.rejected == {"timestamp in the future": 1}
    assert b.ticks == a.ticks and b.summary.events == a.summary.events
    assert b.last_event == a.last_event


def test_a_boot_logged_in_1970_is_kept_placed_and_marked() -> None:
    # A Raspberry Pi without an RTC logs from the epoch until NTP syncs.
    epoch = datetime(1970, 1, 1, 0, 0, 3, tzinfo=UTC)
    boot = [
        line(epoch + i * timedelta(seconds=1), "Booting Linux on physical CPU 0x0")
        for i in range(5)
    ]
    plain = steady(T0, 90)
    a, b = replay(plain), replay([*boot, *plain])
    assert b.summary.events == a.summary.events + 5 and b.unset_clock_lines == 5
    assert b.first_event == T0 and b.ticks == a.ticks
    assert not b.clock_jumps


def test_without_options_a_replay_still_refuses_the_future() -> None:
    # `journalctl -o json | logvigil backtest -` is read now: 2199 cannot have happened.
    lines = [*steady(T0, 30), line(datetime(2199, 1, 1, tzinfo=UTC), "x"), *steady(T0 + 30 * M, 5)]
    result = run_backtest(lines, fmt="jsonl", inventory=empty_inventory())
    assert result.summary.rejected == {"timestamp in the future": 1}
    assert result.last_event == T0 + 34 * M and not result.clock_jumps


def test_a_program_writing_another_zone_is_one_information_finding_and_no_page() -> None:
    # Loghub's Linux log: BIND chrooted without /etc/localtime stamps UTC among the
    # host's EDT lines (read here as UTC: the four hours are what matters).
    local = T0 + timedelta(hours=6)

    def bsd(t: datetime, tag: str, msg: str) -> bytes:
        return f"{t:%b} {t.day:2d} {t:%H:%M:%S} combo {tag}: {msg}\n".encode()

    lines = [bsd(local + i * M, "crond[1510]", "(root) CMD (run-parts /etc/cron.hourly)")
             for i in range(60)]  # fmt: skip
    t = local + 60 * M
    for i in range(30):
        lines.append(bsd(t + i * M + timedelta(hours=4), "named[2275]", "using 1 CPU"))
        lines.append(bsd(t + i * M, "crond[1510]", "(root) CMD (run-parts /etc/cron.hourly)"))
    result = run_backtest(
        lines,
        fmt="syslog",
        inventory=empty_inventory(),
        read_options=input_options("messages", default_time=READ_AT, not_after=READ_AT, year=2019),
    )
    (finding,) = result.clock_findings
    assert (finding.kind, finding.service, finding.evidence["by_s"]) == (
        "clock_skew",
        "named",
        4 * 3600,
    )
    assert not result.clock_jumps and not result.incidents
    assert result.last_event is not None and result.last_event < t + 31 * M  # all in local time


def test_lines_before_the_first_stamp_of_a_raw_file_join_it_and_jump_no_clock() -> None:
    # A rotated application log that starts inside a stack trace (its first lines have no
    # stamp) was read at the time of reading, days after its other lines: a clock jump
    # back that moved every stamped line onto the reading's timeline
    head = [b"\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)\n", b"\t... 12 more\n"]
    stamped = [
        f"{T0 + i * M:%Y-%m-%d %H:%M:%S},000 INFO [main] o.a.h.Worker: heartbeat {i}\n".encode()
        for i in range(90)
    ]
    oom = f"{T0 + 90 * M:%Y-%m-%d %H:%M:%S},000 ERROR [main] o.a.h.Worker: "
    oom += "java.lang.OutOfMemoryError: Java heap space\n"
    result = run_backtest(
        [*head, *stamped, oom.encode()],
        fmt="raw",
        inventory=empty_inventory(),
        read_options=input_options("worker.log", default_time=READ_AT, not_after=READ_AT),
    )
    assert result.clock_jumps == [] and result.unset_clock_lines == 0
    assert (result.first_event, result.summary.untimed) == (T0, 2)
    (incident,) = result.incidents
    assert "out of memory" in incident["triggers"][0]["summary"]


def auth_log(minutes: int) -> list[bytes]:
    """An auth.log as sshd and cron write it (RFC 3164 over /dev/log), oldest first:
    two sshd lines a minute and, every ten minutes, cron's line stamped a second before
    sshd's last (two processes writing at once: time steps back a second)."""
    out = []
    for i in range(minutes):
        t = T0 + timedelta(hours=6, minutes=i)
        s = f"{t:%b} {t.day:2d} {t:%H:%M}"
        pid = 2404 + i
        out += [
            f"{s}:01 web-01 sshd[{pid}]: Failed password for root from 218.65.30.126 "
            f"port {52764 + i} ssh2\n".encode(),
            f"{s}:03 web-01 sshd[{pid}]: Received disconnect from 218.65.30.126 port "
            f"{52764 + i}:11:  [preauth]\n".encode(),
        ]
        if i % 10 == 0:
            out.append(
                f"{s}:02 web-01 CRON[{pid + 6}]: pam_unix(cron:session): session opened "
                "for user root by (uid=0)\n".encode()
            )
    return out


def replay_syslog(lines: list[bytes]) -> BacktestResult:
    options = input_options("auth.log", default_time=READ_AT, not_after=READ_AT)
    options = dataclasses.replace(options, year=T0.year)
    return run_backtest(lines, fmt="syslog", inventory=empty_inventory(), read_options=options)


def test_a_log_listed_newest_first_is_named_so() -> None:
    # `journalctl -r`, or a web interface's export: every step of time goes back.
    lines = auth_log(30)
    assert replay_syslog(lines).newest_first == []  # as written: oldest first
    (host,) = replay_syslog(lines[::-1]).newest_first
    assert host.host == "web-01"
    # Every step back but cron's three, forward when read backwards.
    assert (host.back, host.steps) == (len(lines) - 1 - 3, len(lines) - 1)


def test_a_log_with_a_clock_jump_and_interleaved_writers_is_not_newest_first() -> None:
    lines = auth_log(40)
    # The machine's clock set back an hour midway (an RTC in local time at a reboot).
    jumped = lines[:44] + [ln.replace(b" 06:", b" 05:") for ln in lines[44:]]
    result = replay_syslog(jumped)
    assert result.newest_first == []
    assert result.clock_jumps  # seen, as a jump, not as a reversed file
