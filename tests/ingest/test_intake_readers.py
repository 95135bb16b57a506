"""What the readers make of real syslog lines: the program a tag names, the kernel's
uptime stamp as a field, rsyslog's repeated messages, and the host and service of
lines that name none. Real lines are quoted from ../shared/data/real_logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.formats import input_options, read_events
from logvigil.ingest.templates import TemplateMiner

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def read(fmt: str, line: str, name: str = "/var/log/syslog") -> LogEvent:
    (item,) = read_events([line.encode()], fmt, input_options(name, default_time=NOW))
    assert isinstance(item, LogEvent), item
    return item


# ---------------------------------------------------------------- the program of a tag


@pytest.mark.parametrize(
    ("line", "service", "tag"),
    [
        # Linux-PAM's pam_unix before 0.99 logged with the ident "<service>(pam_unix)"
        (
            "Jun 10 17:16:34 combo sshd(pam_unix)[3353]: check pass; user unknown",
            "sshd",
            "sshd(pam_unix)",
        ),
        (
            "Jun 10 04:03:01 combo su(pam_unix)[2201]: session opened for user news by (uid=0)",
            "su",
            "su(pam_unix)",
        ),
        # scripts that log with their own path as the ident
        (
            "May 22 22:53:43 vultr /etc/mysql/debian-start[682]: Upgrading MySQL tables if "
            "necessary.",
            "debian-start",
            "/etc/mysql/debian-start",
        ),
        (
            "Aug 12 10:01:21 combo /sbin/mingetty[20388]: tty2: invalid character 0x1b in login "
            "name",
            "mingetty",
            "/sbin/mingetty",
        ),
        (
            "Mar  4 10:00:00 db-01 /usr/sbin/cron[12]: (CRON) INFO (pidfile fd = 3)",
            "cron",
            "/usr/sbin/cron",
        ),
        # Dovecot's own log file: its mail log prefix where a tag stands (no host is
        # written: the file's name stands for it)
        (
            "Mar 04 10:00:02 imap(bob)<1234><abc>: Error: Mailbox INBOX: open(/var/mail/bob) "
            "failed: Permission denied (euid=1000(bob) egid=8(mail) missing +w perm: /var/mail)",
            "imap",
            "imap(bob)<1234><abc>",
        ),
    ],
)
def test_a_tag_is_read_as_the_program_it_names(line: str, service: str, tag: str) -> None:
    event = read("syslog", line)
    assert (event.service, event.attributes["tag"]) == (service, tag)


def test_a_macos_process_name_with_blanks_is_its_program() -> None:
    # macOS's syslogd writes the process's name as it is (Loghub's Mac log)
    event = read(
        "syslog",
        "Jul  1 09:04:37 authorMacBook-Pro Google Chrome Helper[24345]: Libinfo call to "
        "mDNSResponder on main thread",
    )
    assert (event.host, event.service, event.attributes) == (
        "authorMacBook-Pro",
        "Google Chrome Helper",
        {"pid": "24345"},
    )
    assert event.message == "Libinfo call to mDNSResponder on main thread"
    helper = read("syslog", "Jul  1 09:04:38 mbp Microsoft Teams Helper (Renderer)[811]: x")
    assert helper.service == "Microsoft Teams Helper (Renderer)"


@pytest.mark.parametrize(
    "rest",
    [
        "connection from 10.0.0.1 [1234]: not a tag",  # more than five words
        "Google Chrome Helper: no pid, so no tag",
        "Google Chrome Helper[pid]: a pid that is not one",
        "last message repeated 2 times",
        "daemon.verbose x[1]: y",  # lower case: no application's name
    ],
)
def test_words_before_a_bracket_are_a_tag_only_as_macos_writes_one(rest: str) -> None:
    event = read("syslog", f"Jul  1 09:04:37 authorMacBook-Pro {rest}")
    assert (event.service, event.message) == ("unknown", rest)


@pytest.mark.parametrize(
    ("line", "service"),
    [
        # a program's own syslog name, with a slash but not a path: kept whole
        ("May 22 22:52:39 vultr postfix/smtp[12554]: 4D3A69BA: to=<root>, status=deferred",
         "postfix/smtp"),
        ("May 22 22:53:42 vultr cyrus/master[427]: cannot find executable for service 'imap'",
         "cyrus/master"),
        # parentheses that are not "prog(module)"
        ("Mar  4 10:00:00 pc (sd-pam)[901]: pam_unix(systemd-user:session): session closed",
         "(sd-pam)"),
        ("Mar  4 10:00:00 db-01 postgresql@11-main[55]: starting", "postgresql@11-main"),
        ("Mar  4 10:00:00 db-01 sshd[812]: Server listening on 0.0.0.0 port 22.", "sshd"),
    ],
)  # fmt: skip
def test_other_tags_are_kept_as_written(line: str, service: str) -> None:
    event = read("syslog", line)
    assert event.service == service
    assert "tag" not in event.attributes


def test_an_rfc5424_app_name_and_a_journal_identifier_are_read_the_same_way() -> None:
    assert read("syslog", "<38>1 2026-03-04T10:00:00Z h sshd(pam_unix) 7 - - x").service == "sshd"
    entry = {
        "__REALTIME_TIMESTAMP": "1772618400000000",
        "_HOSTNAME": "db-01",
        "SYSLOG_IDENTIFIER": "/usr/sbin/cron",
        "MESSAGE": "(CRON) INFO (Running @reboot jobs)",
    }
    event = read("journal", json.dumps(entry))
    assert event.service == "cron"
    assert event.attributes["SYSLOG_IDENTIFIER"] == "/usr/sbin/cron"


def test_a_line_without_a_tag_is_unknown_on_the_host_it_names() -> None:
    """sysklogd writes its own restart mark with a version and no tag."""
    event = read("syslog", "Jun  9 06:06:20 combo syslogd 1.4.1: restart.", "/x/messages")
    assert (event.host, event.service, event.message) == (
        "combo",
        "unknown",
        "syslogd 1.4.1: restart.",
    )


def test_a_jsonl_line_without_a_host_belongs_to_the_input_it_came_from() -> None:
    """Cowrie's JSON log has no host field: the host is the file's name, never the
    machine LogVigil runs on."""
    line = (
        '{"eventid": "cowrie.login.failed", "username": "miner", "timestamp": '
        '"2018-05-06T17:44:51.301475Z", "message": "login attempt [miner/miner] failed", '
        '"src_ip": "88.223.26.58", "session": "173332e506ca", "sensor": "920497a79896"}'
    )
    event = read("auto", line, "/srv/honeypot/cowrie_honeypot.json")
    assert (event.host, event.service) == ("cowrie_honeypot", "unknown")
    assert event.attributes["eventid"] == "cowrie.login.failed"


# ---------------------------------------------------------------- kernel uptime stamps


@pytest.mark.parametrize(
    ("line", "uptime", "message"),
    [
        (
            "Jan  4 18:44:31 elemoine kernel: [    0.000000] Linux version 3.19.0-25-generic "
            "(buildd@lgw01-20) (gcc version 4.8.2 (Ubuntu 4.8.2-19ubuntu1) ) #26~14.04.1-Ubuntu",
            0.0,
            "Linux version 3.19.0-25-generic (buildd@lgw01-20) (gcc version 4.8.2 "
            "(Ubuntu 4.8.2-19ubuntu1) ) #26~14.04.1-Ubuntu",
        ),
        (
            "Jan  4 08:25:20 elemoine kernel: [39495.454966] usb 1-10: device not accepting "
            "address 10, error -71",
            39495.454966,
            "usb 1-10: device not accepting address 10, error -71",
        ),
        (
            "May 22 00:00:24 vultr kernel: [1244844.207951] [UFW BLOCK] IN=ens3 OUT= "
            "SRC=152.44.42.69 DST=158.247.223.84 LEN=52",
            1244844.207951,
            "[UFW BLOCK] IN=ens3 OUT= SRC=152.44.42.69 DST=158.247.223.84 LEN=52",
        ),
        # CONFIG_PRINTK_CALLER adds the caller's id after the time
        ("Mar  4 10:00:00 pc kernel: [    1.234567][    T1] Run /init as init process",
         1.234567, "Run /init as init process"),
    ],
)  # fmt: skip
def test_a_kernel_uptime_stamp_becomes_an_attribute(line: str, uptime: float, message: str) -> None:
    event = read("syslog", line)
    assert (event.message, event.attributes["uptime"]) == (message, uptime)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # the 2.6.5 kernel of loghub_Linux_full.log printed no stamp
        ("Jun  9 06:06:20 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com)",
         "Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com)"),
        # a bracket that is not a time stamp
        ("May 22 22:53:41 vultr kernel: [drm] Initialized", "[drm] Initialized"),
        # only the kernel's lines carry printk's stamp
        ("Mar  4 10:00:00 db-01 app[1]: [ 12.500000] worker started", "[ 12.500000] worker started"),
        # nothing after the stamp: kept whole rather than an empty message
        ("Mar  4 10:00:00 db-01 kernel: [ 12.500000]", "[ 12.500000]"),
    ],
)  # fmt: skip
def test_lines_without_a_kernel_stamp_keep_their_text(line: str, message: str) -> None:
    event = read("syslog", line)
    assert event.message == message
    assert "uptime" not in event.attributes


def test_one_kernel_message_is_one_template_whatever_the_width_of_its_stamp() -> None:
    """printk pads the seconds to five digits: `[    4.2]` is two tokens, `[12345.6]`
    one, and `[1244844.2]` one; the template must not depend on it."""
    miner = TemplateMiner()
    ids = {
        miner.add(
            read("syslog", f"Jan  4 08:25:20 elemoine kernel: [{stamp}] {text}").message
        ).template_id
        for stamp, text in [
            ("    4.252903", "usb 1-10: device not accepting address 10, error -71"),
            ("39495.454966", "usb 1-10: device not accepting address 11, error -71"),
            ("1244844.207951", "usb 1-9: device not accepting address 5, error -71"),
        ]
    }
    assert len(ids) == 1


# ---------------------------------------------------------------- rsyslog's repeats


def test_an_rsyslog_repeat_is_the_message_it_repeats_with_a_count() -> None:
    event = read(
        "syslog",
        "Mar  6 09:55:21 capstonealzheimer sshd[15623]: message repeated 4 times: [ Failed "
        "password for root from 222.186.56.75 port 2007 ssh2]",
    )
    assert event.message == "Failed password for root from 222.186.56.75 port 2007 ssh2"
    assert event.attributes["repeated"] == 4


def read_all(fmt: str, *lines: str) -> list[LogEvent]:
    raw = [line.encode() for line in lines]
    items = list(read_events(raw, fmt, input_options("x", default_time=NOW)))
    assert all(isinstance(item, LogEvent) for item in items), items
    return items


# sysklogd's (and FreeBSD's) syslogd writes "last message repeated %d times" in place of a
# tag and a message, for the previous line of that host; lines from loghub_Linux_full.log.
SQUID_STOP = "Sep 28 09:08:52 combo squid: ."
SYSKLOGD_REPEAT = "Sep 28 09:08:56 combo last message repeated 2 times"


def test_a_sysklogd_repeat_is_the_hosts_previous_line_again_with_a_count() -> None:
    before, again = read_all("syslog", SQUID_STOP, SYSKLOGD_REPEAT)
    assert (again.service, again.message, again.severity) == ("squid", ".", before.severity)
    assert again.ts == datetime(2025, 9, 28, 9, 8, 56, tzinfo=UTC)  # read in March 2026
    assert again.attributes == {**before.attributes, "repeated": 2}
    assert "repeated" not in before.attributes


def test_a_sysklogd_repeat_repeats_its_own_hosts_line_not_the_last_line_read() -> None:
    kernel = "Nov 22 07:36:49 combo kernel:  [<021c8bda>] vt_console_print+0x64/0x28f"
    other = "Nov 22 07:36:50 db-01 cron[22]: (root) CMD (run-parts /etc/cron.hourly)"
    repeat = "Nov 22 07:36:50 combo last message repeated 3 times"
    first, _, again = read_all("syslog", kernel, other, repeat)
    assert (again.host, again.service) == ("combo", "kernel")
    assert again.message == first.message
    assert again.message.strip() == "[<021c8bda>] vt_console_print+0x64/0x28f"


def test_a_repeat_finds_its_hosts_line_among_many_other_hosts() -> None:
    # a relay of many hosts: only the most recent hosts' last lines are kept
    lines = [SQUID_STOP]
    lines += [f"Sep 28 09:08:53 host-{i} cron[1]: (root) CMD (true)" for i in range(511)]
    *_, again = read_all("syslog", *lines, SYSKLOGD_REPEAT)
    assert (again.service, again.attributes["repeated"]) == ("squid", 2)
    lines.insert(1, "Sep 28 09:08:53 host-511 cron[1]: (root) CMD (true)")  # one too many
    *_, forgotten = read_all("syslog", *lines, SYSKLOGD_REPEAT)
    assert forgotten.service == "unknown"
    # a host heard from again is recent again
    lines.append("Sep 28 09:08:55 combo squid: .")
    lines.append("Sep 28 09:08:55 host-999 cron[1]: (root) CMD (true)")
    *_, kept = read_all("syslog", *lines, SYSKLOGD_REPEAT)
    assert kept.service == "squid"


def test_macos_syslogd_repeats_are_read_the_same_way() -> None:
    # Apple's syslogd: "--- last message repeated %d time%s ---"
    first = (
        "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::"
        "listenerCallback - Thunderbolt HPD packet for route = 0x0 port = 11 unplug = 0"
    )
    repeat = "Jul  1 09:01:05 calvisitor-10-105-160-95 --- last message repeated 1 time ---"
    before, again = read_all("syslog", first, repeat)
    assert (again.service, again.message) == ("kernel", before.message)
    assert again.attributes["repeated"] == 1


@pytest.mark.parametrize(
    "lines",
    [
        [SYSKLOGD_REPEAT],  # nothing of that host before it: nothing to repeat
        ["Sep 28 09:08:52 db-01 squid: .", SYSKLOGD_REPEAT],  # another host's line
        [SQUID_STOP, "Sep 28 09:08:56 combo last message repeated 12345678901 times"],
        [SQUID_STOP, "Sep 28 09:08:56 combo --- last message repeated 2 times"],
        [SQUID_STOP, "Sep 28 09:08:56 combo last message repeated 2 times, sort of"],
    ],
)
def test_a_repeat_with_nothing_to_repeat_or_in_other_words_is_kept_as_written(
    lines: list[str],
) -> None:
    last = read_all("syslog", *lines)[-1]
    assert last.service == "unknown"
    assert last.message == lines[-1].split(" ", 4)[-1]
    assert "repeated" not in last.attributes


@pytest.mark.parametrize(
    "message",
    [
        "last message repeated 3 times",  # a program's own words, after its tag
        "message repeated 2 times: []",
        "message repeated many times: [ x]",
    ],
)
def test_other_repeat_wordings_are_kept_as_written(message: str) -> None:
    event = read("syslog", f"Mar  4 10:00:00 db-01 app[1]: {message}")
    assert event.message == message
    assert "repeated" not in event.attributes


# ---------------------------------------------------------------- the real files


def real_events(name: str, keep: bytes = b"") -> list[LogEvent]:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    with path.open("rb") as f:
        lines = [line for line in f if keep in line]
    items: list[Any] = list(read_events(lines, "auto", input_options(str(path))))
    return [e for e in items if isinstance(e, LogEvent)]


def test_no_kernel_message_of_the_real_kernel_log_starts_with_a_stamp() -> None:
    events = real_events("elemoine_kern.log")
    assert len(events) == 6789
    assert all(e.service == "kernel" and "uptime" in e.attributes for e in events)
    assert [e.message for e in events if e.message.startswith("[") and "." in e.message[:14]] == []


def test_the_real_syslog_files_name_programs_not_paths_or_pam_modules() -> None:
    services = {e.service for e in real_events("loghub_Linux_full.log")}
    services |= {e.service for e in real_events("plemma_syslog.log", b"debian-start")}
    assert not {s for s in services if s.startswith("/") or s.endswith("(pam_unix)")}
    assert {"sshd", "su", "mingetty", "debian-start"} <= services


def test_no_event_of_the_real_honeypot_log_is_read_as_a_problem() -> None:
    """Cowrie logs failed logins, attackers' commands and refused tunnels as plain
    sentences without a level: none of them is the honeypot failing."""
    events = real_events("cowrie_honeypot.json")
    assert len(events) == 9667
    assert {e.host for e in events} == {"cowrie_honeypot"}
    assert [e.message for e in events if e.severity >= Severity.WARNING] == []
