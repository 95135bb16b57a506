"""busybox's syslogd (Alpine Linux's default, routers, NAS boxes) writes the facility and
level between host and tag (sysklogd/syslogd.c: "%s %.64s %s %s\\n", timestamp, hostname,
parse_fac_prio_20()'s "daemon.info", message); OpenWrt's logread (ubox log/logread.c)
writes them after a ctime stamp with the year, without host. Both are syslog lines
whose level is written: the program is the tag after it, the level the event's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest.formats import ReadOptions, detect_format, read_events

OPTIONS = ReadOptions(source="messages", default_host="messages", year=2025)

BUSYBOX = [
    "Mar  6 07:15:01 nas daemon.info dnsmasq[1234]: query[A] example.com from 192.168.1.10",
    "Mar  6 07:15:02 nas kern.warn kernel: [12345.678901] br-lan: port 2(wlan0) entered "
    "disabled state",
    "Mar  6 07:15:03 nas authpriv.warn dropbear[1500]: Bad password attempt for 'root' from "
    "192.168.1.10:51000",
    "Mar  6 07:15:04 nas cron.err crond[900]: USER root pid 2001 cmd /usr/sbin/backup",
    "Mar  6 07:15:05 nas user.notice root: backup started",
]
LOGREAD = [
    "Thu Mar  6 07:15:01 2025 daemon.info dnsmasq[1234]: query[A] example.com from 192.168.1.10",
    "Thu Mar  6 07:15:02 2025 kern.err kernel: [12345.678901] Out of memory: Killed process "
    "1234 (dnsmasq) total-vm:5000kB, anon-rss:1200kB, file-rss:0kB",
    "Thu Mar  6 07:15:03 2025 daemon.err uhttpd[1500]: luci: failed login on / for root "
    "from 192.168.1.10",
]


def read(*lines: str) -> list[LogEvent | Rejected]:
    return list(read_events([line.encode() for line in lines], "auto", OPTIONS))


def test_busybox_lines_give_host_program_pid_facility_and_level() -> None:
    assert detect_format([line.encode() for line in BUSYBOX]) == "syslog"
    events = read(*BUSYBOX)
    assert [(e.host, e.service, e.severity, e.attributes.get("facility")) for e in events] == [
        ("nas", "dnsmasq", Severity.INFO, "daemon"),
        ("nas", "kernel", Severity.WARNING, "kern"),
        ("nas", "dropbear", Severity.WARNING, "authpriv"),
        ("nas", "crond", Severity.ERROR, "cron"),
        ("nas", "root", Severity.NOTICE, "user"),
    ]
    assert events[1].message == "br-lan: port 2(wlan0) entered disabled state"
    assert events[1].attributes["uptime"] == 12345.678901
    assert events[2].attributes["pid"] == "1500"
    assert events[0].ts == datetime(2025, 3, 6, 7, 15, 1, tzinfo=UTC)


def test_openwrt_logread_lines_take_their_year_and_have_no_host() -> None:
    lines = [line.encode() for line in LOGREAD]
    assert detect_format(lines) == "syslog"
    events = list(read_events(lines, "auto", ReadOptions(source="logread.txt", year=1999)))
    assert all(isinstance(e, LogEvent) for e in events), events
    # The year written wins over --year; no host: the input's.
    assert events[0].ts == datetime(2025, 3, 6, 7, 15, 1, tzinfo=UTC)
    assert {e.host for e in events} == {"localhost"}
    assert [(e.service, e.severity) for e in events] == [
        ("dnsmasq", Severity.INFO),
        ("kernel", Severity.ERROR),
        ("uhttpd", Severity.ERROR),
    ]
    assert events[1].message.startswith("Out of memory: Killed process 1234 (dnsmasq)")


@pytest.mark.parametrize(
    ("line", "host", "service", "message"),
    [
        # a host whose name has a dot, and a tag after it: not a level
        ("Mar  6 07:15:01 db.example.org sshd[1]: ok", "db.example.org", "sshd", "ok"),
        # a tag that looks like a level but is followed by its colon
        ("Mar  6 07:15:01 nas app.info: started", "nas", "app.info", "started"),
        ("Mar  6 07:15:01 nas daemon.infox[1]: y", "nas", "daemon.infox", "y"),
        # a pair that is not syslog.h's: no tag either, the line keeps its words
        ("Mar  6 07:15:01 nas daemon.verbose x[1]: y", "nas", "unknown", "daemon.verbose x[1]: y"),
    ],
)
def test_what_only_looks_like_a_facility_and_level_is_read_as_before(
    line: str, host: str, service: str, message: str
) -> None:
    (e,) = list(read_events([line.encode()], "syslog", OPTIONS))
    assert isinstance(e, LogEvent), e
    assert (e.host, e.service, e.message) == (host, service, message)
    assert e.severity is Severity.INFO and "facility" not in e.attributes


def test_a_ctime_line_without_a_tag_is_raw_and_an_impossible_one_is_rejected() -> None:
    assert detect_format([b"Thu Mar  6 07:15:01 2025 something happened here"]) == "raw"
    (r,) = list(read_events([b"Thu Feb 30 07:15:01 2025 daemon.info x[1]: y"], "syslog", OPTIONS))
    assert isinstance(r, Rejected) and r.reason == "invalid date 'Feb 30 07:15:01 2025'"
