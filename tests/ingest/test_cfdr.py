"""The supercomputer logs of the Computer Failure Data Repository (Thunderbird, Liberty,
Spirit, Blue Gene/L; Loghub's sets of those names): the collector's prefix (the study's
alert label, the received second, the day, the node) before the node's syslog line or
Blue Gene/L event. The first two lines of each kind are the first lines of Loghub's
Thunderbird and BGL samples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest.formats import ReadOptions, input_options, read_events
from logvigil.ingest.formats.auto import detect_format

READ_AT = datetime(2026, 12, 1, tzinfo=UTC)
OPTIONS = ReadOptions(source="tbird.log", default_time=READ_AT)

THUNDERBIRD = [
    "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: "
    "session closed for user root",
    "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: (root) CMD "
    "(run-parts /etc/cron.hourly)",
]
BGL = [
    "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
    "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
    "APPREAD 1117869872 2005.06.04 R04-M1-N4-I:J18-U11 2005-06-04-00.24.32.432192 "
    "R04-M1-N4-I:J18-U11 RAS APP FATAL ciod: failed to read message prefix on control "
    "stream (CioStream socket to 172.16.96.116:33569",
]


def read(lines: list[str], fmt: str = "syslog") -> list[LogEvent | Rejected]:
    return list(read_events([line.encode() for line in lines], fmt, OPTIONS))


def test_a_thunderbird_line_is_its_nodes_syslog_line_at_the_second_it_was_received() -> None:
    closed, cron = read(THUNDERBIRD)
    assert isinstance(closed, LogEvent) and isinstance(cron, LogEvent)
    assert closed.ts == datetime(2005, 11, 9, 20, 1, 1, tzinfo=UTC)  # 1131566461, not local 12:01
    assert (closed.host, closed.service, closed.message) == (
        "dn228",
        "crond",
        "session closed for user root",
    )
    assert (cron.service, cron.attributes["pid"]) == ("crond", "2916")
    assert cron.message == "(root) CMD (run-parts /etc/cron.hourly)"


def test_a_blue_gene_event_gives_its_component_and_level() -> None:
    info, fatal = read(BGL)
    assert isinstance(info, LogEvent) and isinstance(fatal, LogEvent)
    assert info.ts == datetime(2005, 6, 3, 22, 42, 50, tzinfo=UTC)
    assert (info.host, info.service, info.severity) == (
        "R02-M1-N0-C:J12-U11",
        "kernel",
        Severity.INFO,
    )
    assert info.message == "instruction cache parity error corrected"
    assert (fatal.service, fatal.severity) == ("app", Severity.CRITICAL)
    assert fatal.message.startswith("ciod: failed to read message prefix on control stream")


def test_the_studys_alert_label_is_left_out() -> None:
    (event,) = read([BGL[1]])
    assert isinstance(event, LogEvent)
    assert "APPREAD" not in event.message
    assert all("APPREAD" not in str(v) for v in event.attributes.values())


def test_auto_detection_reads_them_as_syslog() -> None:
    assert detect_format([line.encode() for line in THUNDERBIRD + BGL]) == "syslog"
    assert all(isinstance(e, LogEvent) for e in read(THUNDERBIRD + BGL, "auto"))


@pytest.mark.parametrize(
    "line",
    [
        # Loghub's HPC set: a record number, then the node: no received second after it
        "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: "
        "Component \\042alt0\\042 is in the unavailable state (HWID=3180)",
        # a second and a day that disagree
        "- 1131566461 2007.01.01 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: x",
        "- 1131566461 2005.13.40 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: x",
        "- 113156 2005.11.09 dn228 x",
    ],
)
def test_lines_that_only_resemble_the_prefix_are_not_read_as_it(line: str) -> None:
    (item,) = read([line])
    assert isinstance(item, Rejected) and "not a syslog line" in item.reason


def test_a_file_system_error_on_a_thunderbird_node_pages() -> None:
    start = 1131566461
    lines = [
        f"- {start + 60 * k} 2005.11.09 dn228 Nov 9 12:{k:02d}:01 dn228/dn228 crond[{2916 + k}]: "
        "(root) CMD (run-parts /etc/cron.hourly)"
        for k in range(30)
    ]
    lines.append(
        f"EXT_FS {start + 1800} 2005.11.09 dn228 Nov 9 12:30:01 dn228/dn228 kernel: "
        "EXT3-fs error (device sda5): ext3_journal_start_sb: Detected aborted journal"
    )
    result = run_backtest(
        [line.encode() + b"\n" for line in lines],
        fmt="auto",
        inventory=empty_inventory(),
        read_options=input_options("tbird.log", default_time=READ_AT),
    )
    (incident,) = result.incidents
    (trigger,) = incident["triggers"]
    assert "file system error" in trigger["summary"] and "dn228" in trigger["summary"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # the prefix alone, a line cut after its node
        ("- 1131566461 2005.11.09 dn228", "not a syslog line"),
        # a Blue Gene/L event without its message
        (
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
            "R02-M1-N0-C:J12-U11 RAS KERNEL INFO ",
            "empty message",
        ),
        # a second beyond the years a stamp may hold
        (
            "- 9999999999 2286.11.20 dn228 Nov 20 17:46:39 dn228/dn228 crond[1]: x",
            "received second",
        ),
    ],
)
def test_a_broken_supercomputer_line_is_rejected_with_its_reason(line: str, reason: str) -> None:
    first, item, last = read([THUNDERBIRD[0], line, THUNDERBIRD[1]])
    assert isinstance(item, Rejected) and reason in item.reason and item.line_no == 2
    assert [first, last] == read(THUNDERBIRD)  # the lines around it are read as ever
