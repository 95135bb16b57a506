"""journalctl's text exports (`-o short`, `short-precise`, `short-iso`, `short-full`,
`short-unix`) with their marker lines, as journalctl prints them (systemd's
src/journal/journalctl.c and src/shared/logs-show.c), read alone, detected by `auto`,
and replayed by backtest."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected, Severity
from logvigil.ingest.formats import FORMATS, Context, ReadOptions, detect_format, read_events
from logvigil.ingest.inputs import InputReader

BERLIN = ZoneInfo("Europe/Berlin")
REFERENCE = datetime(2026, 12, 1, 12, tzinfo=UTC)
OPTIONS = ReadOptions(
    source="export.txt", default_host="export", default_time=REFERENCE, naive_tz=BERLIN
)
BOOT_ID = "9f2c0d4e6a8b4c1d8e3f5a7b9c0d1e2f"
ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory.yaml"


def read(fmt: str, *lines: str | bytes, options: ReadOptions = OPTIONS) -> list[Any]:
    raw = [line if isinstance(line, bytes) else line.encode() for line in lines]
    return list(read_events(raw, fmt, options))


def events(fmt: str, *lines: str | bytes, options: ReadOptions = OPTIONS) -> list[LogEvent]:
    items = read(fmt, *lines, options=options)
    assert all(isinstance(i, LogEvent) for i in items), items
    return items


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ---------------------------------------------------------------- the four short variants

# One entry (sshd on web-01, 08:36:03.123456 CET on 30 November 2026) in each output mode,
# formatted as output_timestamp_realtime() does in the systemd versions named.
VARIANTS = [
    # -o short: "%b %d %H:%M:%S"
    ("Nov 30 08:36:03 web-01 sshd[612]: Server listening on :: port 22.", "08:36:03"),
    # -o short-precise: "%b %d %H:%M:%S" + ".%06u"
    ("Nov 30 08:36:03.123456 web-01 sshd[612]: Server listening on :: port 22.", "08:36:03.123456"),
    # -o short-iso, systemd 239: "%Y-%m-%dT%H:%M:%S%z"
    ("2026-11-30T08:36:03+0100 web-01 sshd[612]: Server listening on :: port 22.", "08:36:03"),
    # -o short-iso, current: "%+03d:%02d" after the seconds
    ("2026-11-30T08:36:03+01:00 web-01 sshd[612]: Server listening on :: port 22.", "08:36:03"),
    # -o short-iso-precise, systemd 239 and current
    (
        "2026-11-30T08:36:03.123456+0100 web-01 sshd[612]: Server listening on :: port 22.",
        "08:36:03.123456",
    ),
    (
        "2026-11-30T08:36:03.123456+01:00 web-01 sshd[612]: Server listening on :: port 22.",
        "08:36:03.123456",
    ),
    # -o short-full: format_timestamp(), "%a %Y-%m-%d %H:%M:%S %Z"
    ("Mon 2026-11-30 08:36:03 CET web-01 sshd[612]: Server listening on :: port 22.", "08:36:03"),
    # -o short-full --utc
    ("Mon 2026-11-30 07:36:03 UTC web-01 sshd[612]: Server listening on :: port 22.", "08:36:03"),
    # -o short-unix: "%10" PRI_USEC ".%06" PRI_USEC, seconds since the epoch (UTC)
    ("1796024163.123456 web-01 sshd[612]: Server listening on :: port 22.", "08:36:03.123456"),
]


@pytest.mark.parametrize(("line", "clock"), VARIANTS, ids=[v[0][:26] for v in VARIANTS])
def test_every_short_variant_maps_time_host_program_and_pid(line: str, clock: str) -> None:
    (e,) = events("journalctl", line)
    assert e.ts == at(f"2026-11-30T{clock}+01:00")
    assert (e.host, e.service, e.message) == ("web-01", "sshd", "Server listening on :: port 22.")
    assert e.attributes == {"pid": "612"}
    assert e.source == "export.txt"


def test_a_short_stamp_without_offset_is_in_the_configured_zone_and_year() -> None:
    summer = "Jul 14 23:10:00 web-01 CRON[4100]: (root) CMD (run-parts /etc/cron.hourly)"
    (e,) = events("journalctl", summer)
    assert e.ts == at("2026-07-14T23:10:00+02:00")  # CEST
    (e,) = events("journalctl", summer, options=ReadOptions(default_time=REFERENCE))
    assert e.ts == at("2026-07-14T23:10:00+00:00")  # naive_tz defaults to UTC


def test_no_hostname_lines_belong_to_the_inputs_host() -> None:
    # journalctl --no-hostname
    (e,) = events("journalctl", "Nov 30 08:36:03 kernel: usb 1-1: new high-speed USB device")
    assert (e.host, e.service, e.message) == (
        "export",
        "kernel",
        "usb 1-1: new high-speed USB device",
    )


def test_an_entry_without_identifier_is_unknown_as_journalctl_prints_it() -> None:
    # output_short(): no SYSLOG_IDENTIFIER and no _COMM -> " unknown"
    (e,) = events("journalctl", "Nov 30 08:36:03 web-01 unknown: something happened")
    assert e.service == "unknown"


def test_a_short_export_reads_exactly_as_syslog_reads_it() -> None:
    lines = [
        "Nov 30 08:36:03 web-01 sshd[612]: Server listening on 0.0.0.0 port 22.",
        "Nov 30 08:36:04 web-01 kernel: [    4.211843] EXT4-fs (sda1): mounted filesystem",
        "Nov 30 08:36:05 web-01 sshd(pam_unix)[700]: session opened for user root by (uid=0)",
        "Nov 30 08:36:06 web-01 /usr/sbin/cron[710]: (CRON) INFO (pidfile fd = 3)",
        "Nov 03 08:36:07 web-01 sshd[720]: error: kex_exchange_identification: Connection closed",
        "Nov 30 08:36:08 web-01 systemd[1]: nginx.service: Failed with result 'exit-code'.",
        "Nov 30 08:36:09 web-01 postfix/smtpd[811]: connect from unknown[203.0.113.9]",
    ]
    assert read("journalctl", *lines) == read("syslog", *lines)
    assert [e.severity for e in read("journalctl", *lines)][4:6] == [Severity.ERROR] * 2


# ---------------------------------------------------------------- short-full zones


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("Sun 2026-10-25 02:30:00 CEST", "2026-10-25T00:30:00+00:00"),  # the first 02:30
        ("Sun 2026-10-25 02:30:00 CET", "2026-10-25T01:30:00+00:00"),  # the repeated one
        ("Sat 2026-07-04 12:00:00 CEST", "2026-07-04T10:00:00+00:00"),
        ("Sat 2026-07-04 12:00:00 GMT", "2026-07-04T12:00:00+00:00"),
        ("Sat 2026-07-04 12:00:00 +03", "2026-07-04T09:00:00+00:00"),  # Europe/Istanbul
        ("Sat 2026-07-04 12:00:00 -0330", "2026-07-04T15:30:00+00:00"),
    ],
)
def test_a_short_full_zone_is_used_when_it_is_certain(stamp: str, expected: str) -> None:
    (e,) = events("journalctl", f"{stamp} web-01 systemd[1]: Started session-4.scope.")
    assert e.ts == at(expected)
    assert "_unknown_zone" not in e.attributes


def test_an_unrecognised_zone_abbreviation_falls_back_to_the_configured_zone_flagged() -> None:
    # a Pacific export read with the zone left at UTC: "PST" is none of UTC's names
    line = "Mon 2026-11-30 08:36:03 PST web-01 sshd[612]: Server listening on :: port 22."
    (e,) = events("journalctl", line, options=ReadOptions(default_time=REFERENCE))
    assert e.ts == at("2026-11-30T08:36:03+00:00")
    assert e.attributes["_unknown_zone"] == "PST"
    pacific = ReadOptions(default_time=REFERENCE, naive_tz=ZoneInfo("America/Los_Angeles"))
    (e,) = events("journalctl", line, options=pacific)
    assert e.ts == at("2026-11-30T08:36:03-08:00")
    assert "_unknown_zone" not in e.attributes


# ---------------------------------------------------------------- marker lines

FIRST = "Nov 30 08:35:59 web-01 CRON[1000]: (root) CMD (command -v debian-sa1 > /dev/null)"
BANNER = (
    "Nov 30 08:40:12 web-01 kernel: Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)"
    " (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP"
    " PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)"
)


@pytest.mark.parametrize(
    "marker",
    [
        "-- No entries --",
        # journalctl.c, systemd 239 (RHEL 8), and with --follow
        "-- Logs begin at Thu 2021-04-29 17:44:42 BST, end at Thu 2021-05-06 09:05:01 BST. --",
        "-- Logs begin at Thu 2021-04-29 17:44:42 BST. --",
        # systemd 247 to 250
        "-- Journal begins at Sat 2021-10-30 04:36:50 PDT, ends at Sat 2021-12-11 06:49:21 PST. --",
        "-- Journal begins at Mon 2022-02-07 13:20:02 UTC. --",
        # --show-cursor
        "-- cursor: s=0b5ab7e1b21c4b3d8e0f2a1c3d5e7f90;i=4a2;b=9f2c0d4e6a8b4c1d8e3f5a7b9c0d1e2f",
    ],
)
def test_markers_that_say_nothing_about_the_logs_are_skipped_uncounted(marker: str) -> None:
    items = read("journalctl", marker, FIRST)
    assert [type(i) for i in items] == [LogEvent]
    assert read("journalctl", marker) == []


def test_a_boot_marker_is_a_boot_event_of_the_next_entrys_host_and_time() -> None:
    items = events("journalctl", FIRST, f"-- Boot {BOOT_ID} --", BANNER)
    assert [e.service for e in items] == ["CRON", "journalctl", "kernel"]
    boot = items[1]
    assert boot.message == f"-- Boot {BOOT_ID} --"
    assert (boot.host, boot.ts) == ("web-01", items[2].ts)
    assert boot.ts == at("2026-11-30T08:40:12+01:00")
    assert boot.attributes == {"_BOOT_ID": BOOT_ID}
    assert boot.severity is Severity.INFO


# The first lines of a boot on Rocky Linux 9 name the initrd's host, "localhost".
ROCKY = (
    "Nov 30 08:40:12 localhost kernel: Linux version 5.14.0-162.6.1.el9_1.x86_64"
    " (mockbuild@dal1-prod-builder001.bld.equ.rockylinux.org) (gcc (GCC) 11.3.1)"
)


def test_the_boot_is_the_machine_whose_entries_came_before_the_marker() -> None:
    stopped = "Nov 30 08:30:02 web-01 systemd-journald[602]: Journal stopped"
    items = events("journalctl", stopped, f"-- Boot {BOOT_ID} --", ROCKY)
    boot = items[1]
    assert (boot.host, boot.ts) == ("web-01", at("2026-11-30T08:40:12+01:00"))
    assert items[2].host == "localhost"
    # first in the input: the entry after it is all there is
    first = events("journalctl", f"-- Boot {BOOT_ID} --", ROCKY)[0]
    assert (first.service, first.host) == ("journalctl", "localhost")


def test_the_old_reboot_marker_is_a_boot_too() -> None:
    # systemd 239 prints "-- Reboot --" where newer versions name the boot
    items = events("journalctl", FIRST, "-- Reboot --", BANNER)
    assert (items[1].service, items[1].message, items[1].attributes) == (
        "journalctl",
        "-- Reboot --",
        {},
    )


def test_a_boot_marker_waits_for_an_entry_past_lines_that_are_rejected() -> None:
    items = read("journalctl", f"-- Boot {BOOT_ID} --", "Nov 30 08:4", BANNER)
    assert isinstance(items[0], Rejected) and items[0].line_no == 2
    assert [(i.service, i.ts) for i in items[1:]] == [
        ("journalctl", at("2026-11-30T08:40:12+01:00")),
        ("kernel", at("2026-11-30T08:40:12+01:00")),
    ]


def test_a_boot_marker_with_no_entry_after_it_is_rejected_with_its_line() -> None:
    (r,) = [
        i for i in read("journalctl", FIRST, f"-- Boot {BOOT_ID} --") if isinstance(i, Rejected)
    ]
    assert (r.line_no, r.reason) == (
        2,
        "journalctl boot marker with no entry after it to date it",
    )
    items = read("journalctl", f"-- Boot {BOOT_ID} --", "-- Reboot --", BANNER)
    assert isinstance(items[0], Rejected) and items[0].line_no == 1
    assert "followed by another" in items[0].reason
    assert items[1].message == "-- Reboot --"


def test_the_registered_reader_reads_one_line_alone_where_a_marker_is_no_event() -> None:
    ctx = Context("export.txt", "export", "unknown", REFERENCE, BERLIN)
    parse = FORMATS["journalctl"]
    assert isinstance(parse(FIRST.encode(), 1, ctx), LogEvent)
    marker = parse(b"-- Reboot --", 2, ctx)
    assert isinstance(marker, Rejected) and marker.line_no == 2
    assert marker.reason == "journalctl marker line: no entry of its own"


# ---------------------------------------------------------------- multi-line messages

# systemd-coredump's message; print_multiline() indents its further lines to the
# width of "Nov 30 08:36:04 web-01 systemd-coredump[901]: " (46 bytes), blank ones too.
PAD = " " * 46
COREDUMP = [
    "Nov 30 08:36:04 web-01 systemd-coredump[901]: Process 812 (php-fpm8.2) of user 33 dumped core.",
    PAD,
    PAD + "Stack trace of thread 812:",
    PAD + "#0  0x00007f3c1a2b3c4d __pthread_kill_implementation (libc.so.6 + 0x8a3c4d)",
    PAD + "#1  0x00007f3c1a25e472 raise (libc.so.6 + 0x3d472)",
    PAD + "ELF object binary architecture: AMD x86-64",
]


def test_a_multi_line_message_is_one_event_as_in_the_journals_json_export() -> None:
    (e,) = events("journalctl", *COREDUMP)
    assert e.service == "systemd-coredump"
    assert e.message.split("\\n") == [
        "Process 812 (php-fpm8.2) of user 33 dumped core.",
        "",
        "Stack trace of thread 812:",
        "#0  0x00007f3c1a2b3c4d __pthread_kill_implementation (libc.so.6 + 0x8a3c4d)",
        "#1  0x00007f3c1a25e472 raise (libc.so.6 + 0x3d472)",
        "ELF object binary architecture: AMD x86-64",
    ]
    after = events("journalctl", *COREDUMP, FIRST)
    assert [x.service for x in after] == ["systemd-coredump", "CRON"]


def test_an_indented_line_that_continues_no_entry_is_rejected() -> None:
    items = read("journalctl", COREDUMP[2])
    assert [(r.line_no, r.reason.split(" (")[0]) for r in items] == [
        (1, "indented line that continues no entry")
    ]
    # indented less than the entry before it: not journalctl's continuation
    items = read("journalctl", FIRST, "    Stack trace of thread 812:")
    assert isinstance(items[0], LogEvent) and isinstance(items[1], Rejected)
    # the continuation of a rejected entry line
    items = read("journalctl", "Nov 30 08:36: web-01 x: y", PAD + "more")
    assert [type(i) for i in items] == [Rejected, Rejected]


def test_an_endless_multi_line_message_is_capped_and_marked_truncated() -> None:
    line = PAD + "x" * 1000
    (e,) = events("journalctl", COREDUMP[0], *[line] * (2 * MAX_LINE_BYTES // 1000))
    assert e.truncated
    assert len(e.message.encode()) <= MAX_LINE_BYTES


# ---------------------------------------------------------------- hostile lines

HOSTILE = [
    (f"-- Boot {BOOT_ID[:-1]} --", "malformed journalctl marker line"),
    (f"-- Boot {BOOT_ID} -- and then some", "malformed journalctl marker line"),
    ("-- Boot --", "malformed journalctl marker line"),
    ("-- Logs begin at", "malformed journalctl marker line"),
    ("-- No entries -- \x1b[2J", "malformed journalctl marker line"),
    ("Nov 30 08:36", "no journalctl timestamp at the start"),
    ("Nov 30 08:36:0 web-01 sshd[612]: Server listening", "no journalctl timestamp at the start"),
    ("2026-11-30T08:36 web-01 sshd[612]: x", "no journalctl timestamp at the start"),
    ("Mon 2026-11-30 08:36:03", "no journalctl timestamp at the start"),
    (
        "<34>Nov 30 08:36:03 web-01 su[123]: 'su root' failed",
        "no journalctl timestamp at the start",
    ),
    ("Nov 30 2026 08:36:03 web-01 sshd[612]: x", "no journalctl timestamp at the start"),
    (
        "Mon 2026-02-30 08:36:03 CET web-01 sshd[612]: x",
        "invalid date 'Mon 2026-02-30 08:36:03 CET'",
    ),
    ("Mon 2026-11-30 08:36:03 +2500 web-01 sshd[612]: x", "invalid zone offset '+2500'"),
    ("Feb 30 08:36:03 web-01 sshd[612]: x", "invalid date 'Feb 30 08:36:03'"),
    ("Nov 30 08:36:03 web-01 sshd[612]:   ", "empty message"),
    ("1796024163.12345 web-01 sshd[612]: x", "no journalctl timestamp at the start"),
    ("17960241630.123456 web-01 sshd[612]: x", "no journalctl timestamp at the start"),
    ("[    5.000000] web-01 sshd[612]: x", "no journalctl timestamp at the start"),  # monotonic
    ("9999999999.000000 web-01 sshd[612]: x", "absurd timestamp '9999999999.000000'"),
]


@pytest.mark.parametrize(("line", "reason"), HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_lines_are_rejected_with_a_reason_naming_line_and_field(
    line: str, reason: str
) -> None:
    items = read("journalctl", FIRST, line)
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert len(rejected) == 1, items
    assert rejected[0].line_no == 2 and rejected[0].source == "export.txt"
    assert rejected[0].reason.startswith(reason)
    assert rejected[0].describe().startswith("export.txt:2: ")


def test_crlf_a_bom_and_nul_padding_are_handled_as_for_every_format() -> None:
    items = events(
        "journalctl", b"\xef\xbb\xbf-- Reboot --\r\n", (BANNER + "\x00\x00\r\n").encode()
    )
    assert [e.service for e in items] == ["journalctl", "kernel"]


# ---------------------------------------------------------------- auto

PLAIN = "Nov 30 08:36:03 web-01 sshd[612]: Server listening on 0.0.0.0 port 22."


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [
        (
            [f"-- Logs begin at {VARIANTS[6][0][:27]}, end at {VARIANTS[6][0][:27]}. --", PLAIN],
            "journalctl",
        ),
        ([PLAIN, f"-- Boot {BOOT_ID} --", PLAIN, PLAIN], "journalctl"),
        (["-- No entries --"], "journalctl"),
        ([VARIANTS[1][0], VARIANTS[1][0]], "journalctl"),  # short-precise
        ([VARIANTS[2][0]], "journalctl"),  # short-iso, +0100
        ([VARIANTS[3][0], PLAIN], "journalctl"),  # short-iso, +01:00
        ([VARIANTS[6][0]], "journalctl"),  # short-full
        ([VARIANTS[8][0], PLAIN], "journalctl"),  # short-unix
        (["1796024163.123456 no tag here, a raw line"], "raw"),
        ([PLAIN, PLAIN, PLAIN], "syslog"),  # -o short alone: read the same either way
        ([VARIANTS[5][0]], "syslog"),  # short-iso-precise is rsyslog's file format
        (["<34>Nov 30 08:36:03 web-01 su[123]: x", "-- Reboot --", PLAIN], "syslog"),
        (["-- not a marker --", "-- neither"], "raw"),
    ],
)
def test_auto_detects_journalctl_exports(sample: list[str], fmt: str) -> None:
    assert detect_format([line.encode() for line in sample]) == fmt


def test_auto_switches_to_journalctl_at_a_boot_marker_after_its_sample() -> None:
    lines = [PLAIN] * 20 + [f"-- Boot {BOOT_ID} --", ROCKY, *COREDUMP, "-- No entries --"]
    items = read("auto", *lines)
    assert not [i for i in items if isinstance(i, Rejected)]
    assert [e.service for e in items[20:]] == ["journalctl", "kernel", "systemd-coredump"]
    assert (items[20].host, items[20].ts) == ("web-01", at("2026-11-30T08:40:12+01:00"))
    assert items[22].message.count("\\n") == 5  # the core dump's lines, joined


def test_auto_reads_a_short_full_export_with_markers_without_rejections() -> None:
    lines = [
        "-- Journal begins at Mon 2026-11-30 06:00:01 CET, ends at Mon 2026-11-30 09:40:00 CET. --",
        "Mon 2026-11-30 08:35:59 CET web-01 CRON[1000]: (root) CMD (debian-sa1 1 1)",
        f"-- Boot {BOOT_ID} --",
        "Mon 2026-11-30 08:40:12 CET web-01 kernel: Linux version 6.1.0-13-amd64 (x) (gcc)",
    ]
    items = events("auto", *lines)
    assert [(e.service, e.ts.isoformat()) for e in items] == [
        ("CRON", "2026-11-30T07:35:59+00:00"),
        ("journalctl", "2026-11-30T07:40:12+00:00"),
        ("kernel", "2026-11-30T07:40:12+00:00"),
    ]


# ---------------------------------------------------------------- the real journalctl

JOURNALCTL = shutil.which("journalctl")
JOURNAL_REMOTE = next(
    (p for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
     if Path(p).exists()),
    None,
)  # fmt: skip
needs_journalctl = pytest.mark.skipif(
    JOURNALCTL is None or JOURNAL_REMOTE is None,
    reason="needs journalctl and systemd-journal-remote "
    "(apt-get install -y systemd systemd-journal-remote)",
)


def _record(usec: int, boot: str, ident: str, message: str, pid: int | None = None) -> bytes:
    """One entry in the journal export format; a multi-line MESSAGE in its binary form."""
    fields = [f"__REALTIME_TIMESTAMP={usec}", "__MONOTONIC_TIMESTAMP=1000", f"_BOOT_ID={boot}",
              "_HOSTNAME=web-01", f"SYSLOG_IDENTIFIER={ident}", "PRIORITY=6"]  # fmt: skip
    if pid is not None:
        fields.append(f"_PID={pid}")
    data = "\n".join(fields).encode() + b"\n"
    text = message.encode()
    if b"\n" in text:
        return data + b"MESSAGE\n" + struct.pack("<Q", len(text)) + text + b"\n\n"
    return data + b"MESSAGE=" + text + b"\n\n"


@pytest.fixture(scope="module")
def journal_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two boots of web-01 written by the real systemd-journal-remote: sshd, a core dump
    with a multi-line message, then the kernel's banner in the next boot."""
    assert JOURNAL_REMOTE is not None
    path = tmp_path_factory.mktemp("journal") / "web-01.journal"
    start = int(datetime(2026, 11, 30, 7, 36, 3, tzinfo=UTC).timestamp()) * 1_000_000
    records = [
        _record(start, "0123456789abcdef0123456789abcdef", "sshd", "Server listening on :: port 22.", 612),
        _record(start + 1_123_456, "0123456789abcdef0123456789abcdef", "systemd-coredump",
                "\n".join(COREDUMP_TEXT), 901),
        _record(start + 600_000_000, BOOT_ID, "kernel", "Linux version 6.1.0-13-amd64 (x) (gcc-12)"),
    ]  # fmt: skip
    subprocess.run([JOURNAL_REMOTE, "-o", str(path), "-"], input=b"".join(records),
                   capture_output=True, check=True, timeout=30)  # fmt: skip
    return path


COREDUMP_TEXT = [
    "Process 812 (php-fpm8.2) of user 33 dumped core.",
    "",
    "Stack trace of thread 812:",
    "#0  0x00007f3c1a2b3c4d raise (libc.so.6 + 0x3d472)",
]


def _journalctl(path: Path, *args: str) -> list[bytes]:
    assert JOURNALCTL is not None
    env = {"TZ": "Europe/Berlin", "LC_ALL": "C", "SYSTEMD_COLORS": "0", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([JOURNALCTL, "--file", str(path), "--no-pager", *args], env=env,
                         capture_output=True, check=True, timeout=30).stdout  # fmt: skip
    return out.splitlines(keepends=True)


@needs_journalctl
@pytest.mark.parametrize("mode", ["short", "short-precise", "short-iso", "short-iso-precise",
                                  "short-full", "short-unix"])  # fmt: skip
@pytest.mark.parametrize("fmt", ["journalctl", "auto"])
def test_the_real_journalctls_text_output_reads_as_its_json_output(
    journal_file: Path, mode: str, fmt: str
) -> None:
    """Each entry gives the event the `-o json` export gives (to the second where the mode
    prints no fraction), and the boot marker a boot on web-01 at the next boot's first entry."""
    text = read(fmt, *_journalctl(journal_file, "-o", mode))
    json_events = events("journal", *_journalctl(journal_file, "-o", "json"))
    assert not [i for i in text if isinstance(i, Rejected)], text
    assert [e.service for e in text] == ["sshd", "systemd-coredump", "journalctl", "kernel"]
    precise = "precise" in mode or mode == "short-unix"
    entries = [e for e in text if e.service != "journalctl"]
    for got, want in zip(entries, json_events, strict=True):
        assert (got.host, got.service, got.message) == (want.host, want.service, want.message)
        assert got.ts == (want.ts if precise else want.ts.replace(microsecond=0))
    boot = text[2]
    assert (boot.host, boot.ts, boot.message) == ("web-01", entries[2].ts, f"-- Boot {BOOT_ID} --")


@needs_journalctl
def test_the_real_journalctls_utc_and_empty_outputs(journal_file: Path) -> None:
    utc_full = read("auto", *_journalctl(journal_file, "-o", "short-full", "--utc"))
    assert utc_full[0].ts == at("2026-11-30T07:36:03+00:00")
    empty = _journalctl(journal_file, "--since", "2030-01-01")
    assert empty == [b"-- No entries --\n"]
    assert read("auto", *empty) == [] and read("journalctl", *empty) == []


# ---------------------------------------------------------------- backtest, end to end

runner = CliRunner()
LINUX = (
    "kernel: Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian"
    " 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC"
    " Debian 6.1.55-1 (2023-09-29)"
)
SYSTEMD = (
    "systemd[1]: systemd 252.17-1~deb12u1 running in system mode (+PAM +AUDIT +SELINUX"
    " +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS"
    " +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT"
    " +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT"
    " default-hierarchy=unified)"
)
CRON = "CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"


def _first_boot() -> list[str]:
    lines = [
        f"Nov 30 06:12:01 web-01 {LINUX}",
        f"Nov 30 06:12:03 web-01 {SYSTEMD}",
        "Nov 30 06:12:04 web-01 systemd-journald[312]: Journal started",
        "Nov 30 06:12:05 web-01 systemd[1]: Started ssh.service - OpenBSD Secure Shell server.",
        "Nov 30 06:12:05 web-01 sshd[612]: Server listening on 0.0.0.0 port 22.",
    ]
    for minute in range(6 * 60 + 15, 7 * 60 + 20, 5):
        lines.append(
            f"Nov 30 {minute // 60:02d}:{minute % 60:02d}:01 web-01 {CRON.format(pid=minute)}"
        )
    lines.append(
        "Nov 30 07:20:44 web-01 sshd[2301]: Accepted publickey for admin from 192.168.1.20 "
        "port 51514 ssh2: ED25519 SHA256:kq3X0pQ2vR9mH6sT1uYbW8cD4eF7gJ5iL2nO0aZ3xVw"
    )
    return lines


# The end of a boot stopped by `systemctl reboot` on Debian 12 (systemd 252): PID 1's last
# line, then systemd-shutdown's first lines (read from kmsg by journald), then journald's.
SHUTDOWN = [
    "Nov 30 07:25:10 web-01 systemd[1]: Stopping ssh.service - OpenBSD Secure Shell server...",
    "Nov 30 07:25:10 web-01 sshd[612]: Received signal 15; terminating.",
    "Nov 30 07:25:11 web-01 systemd[1]: Shutting down.",
    "Nov 30 07:25:11 web-01 systemd-shutdown[1]: Syncing filesystems and block devices.",
    "Nov 30 07:25:11 web-01 systemd-shutdown[1]: Sending SIGTERM to remaining processes...",
    "Nov 30 07:25:11 web-01 systemd-journald[312]: Received SIGTERM from PID 1 (systemd-shutdow).",
    "Nov 30 07:25:11 web-01 systemd-journald[312]: Journal stopped",
]
SECOND_BOOT = [
    f"-- Boot {BOOT_ID} --",
    f"Nov 30 07:31:09 web-01 {LINUX}",
    f"Nov 30 07:31:11 web-01 {SYSTEMD}",
    "Nov 30 07:31:12 web-01 systemd-journald[305]: Journal started",
    "Nov 30 07:31:14 web-01 sshd[598]: Server listening on 0.0.0.0 port 22.",
    f"Nov 30 07:35:01 web-01 {CRON.format(pid=901)}",
    f"Nov 30 07:40:01 web-01 {CRON.format(pid=955)}",
]
# `journalctl -t systemd-journald -t sshd -t CRON`: no kernel banner and no PID 1 line,
# so the boot marker is the only sign of the boot.
FILTERED = ("web-01 systemd-journald", "web-01 sshd", "web-01 CRON", "-- Boot")


def _backtest(tmp_path: Path, lines: list[str]) -> list[dict[str, Any]]:
    path = tmp_path / "web-01.journal.txt"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["backtest", str(path), "--inventory", str(INVENTORY), "--json"])
    assert result.exit_code == 0, result.output  # 1 would mean rejected lines
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _unclean(incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for i in incidents for t in i["triggers"] if t["detector"] == "unclean_reboot"]


def test_backtest_of_two_boots_without_a_shutdown_between_finds_an_unclean_reboot(
    tmp_path: Path,
) -> None:
    (trigger,) = _unclean(_backtest(tmp_path, _first_boot() + SECOND_BOOT))
    assert trigger["host"] == "web-01"
    assert trigger["summary"].startswith("web-01 rebooted at 07:31 without a clean shutdown")


def test_backtest_of_two_boots_with_the_shutdown_sequence_between_finds_none(
    tmp_path: Path,
) -> None:
    assert _unclean(_backtest(tmp_path, _first_boot() + SHUTDOWN + SECOND_BOOT)) == []


def test_the_boot_marker_alone_tells_backtest_of_the_boot(tmp_path: Path) -> None:
    def filtered(lines: list[str]) -> list[str]:
        return [x for x in lines if any(f in x for f in FILTERED)]

    crash = filtered(_first_boot() + SECOND_BOOT)
    assert sum(LINUX in x or "running in system mode" in x for x in crash) == 0
    (trigger,) = _unclean(_backtest(tmp_path, crash))
    assert "no shutdown sequence from systemd-journald" in trigger["summary"]
    assert _unclean(_backtest(tmp_path, filtered(_first_boot() + SHUTDOWN + SECOND_BOOT))) == []
    no_marker = [x for x in crash if not x.startswith("-- Boot")]
    assert _unclean(_backtest(tmp_path, no_marker)) == []


def test_a_rejection_in_a_file_names_its_own_line_after_a_multi_line_message(
    tmp_path: Path,
) -> None:
    log = tmp_path / "boot.txt"
    bad = "Nov 30 08:36: web-01 x: y"
    log.write_text("\n".join([*COREDUMP, FIRST, bad]) + "\n")
    rejected = [r for r in InputReader([str(log)], "journalctl") if isinstance(r, Rejected)]
    assert [(r.source, r.line_no) for r in rejected] == [(str(log), len(COREDUMP) + 2)]
