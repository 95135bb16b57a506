"""unclean_reboot on real boot sequences: lines quoted from ../shared/data/real_logs (each
block names its file and lines), read by the syslog reader, attributed, mined and replayed
as the tick does, one window per minute (a long quiet stretch as one window)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from detector.detectors import DETECTORS
from detector.detectors._common import from_minute, to_minute
from detector.detectors.base import CountRow, Window
from detector.detectors.reboot import UncleanRebootConfig, UncleanRebootDetector
from graph.attribution import attributor_for
from graph.inventory import Inventory
from logvigil.core.events import LogEvent, Severity
from logvigil.core.findings import Finding
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.templates import TemplateMiner

#: Minutes ticked one by one after a minute with lines; a longer quiet is one window.
FINE = 30


@dataclasses.dataclass
class Replay:
    """Feeds syslog lines to one detector the way the tick would, state through JSON."""

    year: int
    det: UncleanRebootDetector = dataclasses.field(default_factory=UncleanRebootDetector)
    miner: TemplateMiner = dataclasses.field(default_factory=TemplateMiner)
    state: dict[str, Any] = dataclasses.field(default_factory=dict)
    texts: dict[int, str] = dataclasses.field(default_factory=dict)
    end: int | None = None  # the next window's start, an epoch minute
    #: Hand each tick the very state the previous one returned, as the daemon and
    #: backtest do between two saves (else a JSON copy, as after a restart).
    in_memory: bool = False

    def rows(self, text: str) -> dict[int, list[CountRow]]:
        opts = ReadOptions(source="t", default_time=datetime(self.year, 12, 31, tzinfo=UTC))
        attribute = attributor_for(Inventory.model_validate({})).attribute
        counts: Counter[tuple[int, str, str, int]] = Counter()
        for ev in read_events(text.strip().encode().splitlines(), "syslog", opts):
            assert isinstance(ev, LogEvent), ev
            match = self.miner.add(ev.message)
            self.texts[match.template_id] = match.template
            counts[to_minute(ev.ts), ev.host, attribute(ev), match.template_id] += 1
        out: dict[int, list[CountRow]] = {}
        for (m, host, svc, tid), n in counts.items():
            out.setdefault(m, []).append(CountRow(from_minute(m), host, svc, tid, Severity.INFO, n))
        return out

    def tick(self, start: int, end: int, rows: list[CountRow]) -> list[tuple[int, Finding]]:
        w = Window(from_minute(start), from_minute(end), tuple(rows), dict(self.texts))
        found, new_state = self.det.evaluate(w, self.state, from_minute(end))
        self.state = new_state if self.in_memory else json.loads(json.dumps(new_state))
        self.end = end
        return [(end, f) for f in found]

    def feed(self, text: str, *, after: int = FINE) -> list[tuple[int, Finding]]:
        """Replay `text`, then `after` quiet minutes; returns (tick end minute, finding)."""
        by_minute = self.rows(text)
        out: list[tuple[int, Finding]] = []
        for m in sorted(by_minute):
            if self.end is None:
                self.end = m
            while self.end < m:  # the quiet minutes before this one
                nxt = m if m - self.end > FINE else self.end + 1
                out += self.tick(self.end, nxt, [])
            out += self.tick(m, m + 1, by_minute[m])
        for _ in range(after):
            out += self.tick(self.end, self.end + 1, [])
        return out


def at(text: str) -> int:
    return to_minute(datetime.fromisoformat(text).replace(tzinfo=UTC))


# -- loghub_Linux_full.log: Red Hat, sysklogd, no systemd -----------------------------

# lines 1-5, 156-160: the file starts with a boot that needed journal recovery
LOGHUB_FIRST_BOOT = """
Jun  9 06:06:20 combo syslogd 1.4.1: restart.
Jun  9 06:06:20 combo syslog: syslogd startup succeeded
Jun  9 06:06:20 combo kernel: klogd 1.4.1, log source = /proc/kmsg started.
Jun  9 06:06:20 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004
Jun  9 06:06:26 combo kernel: EXT3-fs: INFO: recovery required on readonly filesystem.
Jun  9 06:06:26 combo kernel: EXT3-fs: hda2: orphan cleanup on readonly fs
Jun  9 06:06:27 combo kernel: EXT3-fs: recovery complete.
Jun  9 06:11:41 combo ntpd[2296]: kernel time sync enabled 0001
"""

# lines 340-347, 491: the crash of 06-10 (last line 04:09:16, boot 11:31:44)
LOGHUB_CRASH_0610 = """
Jun 10 04:03:02 combo logrotate: ALERT exited abnormally with [1]
Jun 10 04:09:15 combo su(pam_unix)[5493]: session opened for user news by (uid=0)
Jun 10 04:09:16 combo su(pam_unix)[5493]: session closed for user news
Jun 10 11:31:44 combo syslogd 1.4.1: restart.
Jun 10 11:31:44 combo syslog: syslogd startup succeeded
Jun 10 11:31:44 combo kernel: klogd 1.4.1, log source = /proc/kmsg started.
Jun 10 11:31:44 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004
Jun 10 11:31:44 combo kernel: BIOS-provided physical RAM map:
Jun 10 11:31:47 combo kernel: VFS: Mounted root (ext2 filesystem).
Jun 10 11:31:47 combo kernel: EXT3-fs: INFO: recovery required on readonly filesystem.
Jun 10 11:31:47 combo kernel: EXT3-fs: write access will be enabled during recovery.
"""

# lines 2906-2910, 3062: the crash of 07-27: the recovery line falls in the next minute
LOGHUB_CRASH_0727 = """
Jul 27 10:59:53 combo ftpd[31985]: connection from 218.38.58.3 () at Wed Jul 27 10:59:53 2005
Jul 27 14:41:57 combo syslogd 1.4.1: restart.
Jul 27 14:41:57 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004
Jul 27 14:41:57 combo kernel: BIOS-provided physical RAM map:
Jul 27 14:42:02 combo kernel: VFS: Mounted root (ext2 filesystem).
Jul 27 14:42:02 combo kernel: EXT3-fs: INFO: recovery required on readonly filesystem.
"""

# lines 5797-5800, 5880-5889: the planned reboot of 09-28
LOGHUB_CLEAN_0928 = """
Sep 28 09:03:45 combo sendmail: sendmail shutdown failed
Sep 28 09:08:28 combo shutdown: shutting down for system reboot
Sep 28 09:08:28 combo init: Switching to runlevel: 6
Sep 28 09:08:29 combo login(pam_unix)[2417]: session closed for user root
Sep 28 09:09:17 combo nfslock: rpc.statd shutdown succeeded
Sep 28 09:09:17 combo kernel: Kernel logging (proc) stopped.
Sep 28 09:09:17 combo kernel: Kernel log daemon terminating.
Sep 28 09:09:19 combo syslog: klogd shutdown succeeded
Sep 28 09:09:19 combo exiting on signal 15
Sep 28 09:10:48 combo syslogd 1.4.1: restart.
Sep 28 09:10:48 combo syslog: syslogd startup succeeded
Sep 28 09:10:49 combo kernel: klogd 1.4.1, log source = /proc/kmsg started.
Sep 28 09:10:49 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004
Sep 28 09:10:49 combo kernel: BIOS-provided physical RAM map:
"""


def test_a_hosts_first_boot_in_our_history_is_not_judged() -> None:
    assert Replay(2005).feed(LOGHUB_FIRST_BOOT) == []


def test_a_boot_with_journal_recovery_is_an_unclean_reboot_on_a_host_without_systemd() -> None:
    r = Replay(2005)
    r.feed(LOGHUB_FIRST_BOOT)
    ((tick, f),) = r.feed(LOGHUB_CRASH_0610)
    assert tick == at("2005-06-10 11:32")  # the boot's minute is complete
    assert (f.detector, f.kind, f.severity) == (
        "unclean_reboot",
        "unclean_reboot",
        Severity.CRITICAL,
    )
    assert (f.host, f.service, f.subject) == ("combo", None, "host:combo")
    assert f.started_at == from_minute(at("2005-06-10 11:31"))
    assert f.summary.startswith(
        "combo rebooted at 11:31 without a clean shutdown: last line before it at 04:09, "
        "7 h 22 min earlier (su: "
    ), f.summary
    assert f.summary.endswith("; the kernel replayed the EXT3 journal at boot")
    assert f.evidence["rules"] == ["fs_recovery"]
    assert f.evidence["last_line_at"] == "2005-06-10T04:09:00+00:00"
    assert f.evidence["boot_at"] == "2005-06-10T11:31:00+00:00"
    assert "Linux version" in r.texts[f.template_id]


def test_a_recovery_in_the_minute_after_the_banner_still_counts() -> None:
    r = Replay(2005)
    r.feed(LOGHUB_FIRST_BOOT)
    ((tick, f),) = r.feed(LOGHUB_CRASH_0727)
    assert tick == at("2005-07-27 14:43")
    assert "last line before it at 10:59, 3 h 42 min earlier (ftpd: " in f.summary
    assert f.evidence["recovery_at"] == "2005-07-27T14:42:00+00:00"


def test_a_planned_reboot_with_its_shutdown_sequence_is_silent() -> None:
    r = Replay(2005)
    r.feed(LOGHUB_FIRST_BOOT)
    assert r.feed(LOGHUB_CLEAN_0928) == []
    # the host is now known to log its shutdown (init, shutdown): a later boot without
    # one is judged by that alone, even without a journal recovery
    crash = """
Oct  1 10:00:00 combo sshd(pam_unix)[4242]: session opened for user root by (uid=0)
Oct  1 12:00:00 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004
"""
    ((tick, f),) = r.feed(crash)
    assert tick == at("2005-10-01 12:02")
    assert f.evidence["rules"] == ["no_shutdown"]
    assert "no shutdown sequence from init, shutdown before it" in f.summary


# -- plemma_syslog.log: Debian 10, systemd and rsyslog --------------------------------

# lines 1, 8894-8918, 8919-8920, 9388, 9430, 9492: the crash of 05-22 (NUL padding before
# the banner is the reader's; here the lines are as read)
PLEMMA_BEFORE = """
May 22 00:00:06 vultr rsyslogd:  [origin software="rsyslogd" swVersion="8.1901.0" x-pid="389" x-info="https://www.rsyslog.com"] rsyslogd was HUPed
May 22 22:52:36 vultr systemd[12536]: Reached target Basic System.
May 22 22:52:39 vultr postfix/qmgr[1057]: 4D3A69BA: from=<adam@adam.relay@carpent.us>, size=473, nrcpt=1 (queue active)
May 22 22:52:57 vultr dockerd[444]: time="2022-05-22T22:52:57.471059111Z" level=info msg="NetworkDB stats vultr.guest(72946810a036)"
"""
PLEMMA_BOOT = """
May 22 22:53:41 vultr kernel: [    0.000000] Linux version 4.19.0-20-amd64 (debian-kernel@lists.debian.org) (gcc version 8.3.0 (Debian 8.3.0-6)) #1 SMP Debian 4.19.235-1 (2022-03-17)
May 22 22:53:41 vultr kernel: [    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-4.19.0-20-amd64 root=UUID=8ef39735-8cd7-44b2-995e-da53dbb9b91a ro consoleblank=0 vultrquiet
May 22 22:53:41 vultr systemd[1]: Reached target Local File Systems.
May 22 22:53:41 vultr rsyslogd:  [origin software="rsyslogd" swVersion="8.1901.0" x-pid="390" x-info="https://www.rsyslog.com"] start
May 22 22:53:42 vultr systemd[1]: cyrus-imapd.service: Failed with result 'exit-code'.
"""


def test_a_boot_without_a_shutdown_on_a_systemd_host_is_reported_two_minutes_later() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    ((tick, f),) = r.feed(PLEMMA_BOOT)
    assert tick == at("2022-05-22 22:55")  # room for a journal recovery line first
    assert f.summary == (
        "vultr rebooted at 22:53 without a clean shutdown: last line before it at 22:52, "
        "1 min earlier (dockerd, postfix/qmgr, systemd); no shutdown sequence from rsyslogd, "
        "systemd before it"
    )
    assert f.evidence["rules"] == ["no_shutdown"]
    assert f.evidence["last_orderly_stop_at"] is None


# lines 69435-69441: unattended-upgrades restarts rsyslog on 05-29
PLEMMA_RSYSLOG_RESTART = """
May 29 06:53:50 vultr rsyslogd:  [origin software="rsyslogd" swVersion="8.1901.0" x-pid="390" x-info="https://www.rsyslog.com"] exiting on signal 15.
May 29 06:53:50 vultr rsyslogd:  [origin software="rsyslogd" swVersion="8.1901.0" x-pid="7928" x-info="https://www.rsyslog.com"] start
May 29 11:55:07 vultr systemd[31337]: Reached target Basic System.
"""


def test_an_old_syslog_restart_does_not_make_a_later_crash_look_clean() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    r.feed(PLEMMA_RSYSLOG_RESTART, after=0)
    crash = PLEMMA_BOOT.replace("May 22 22:53:4", "May 29 12:10:4")
    ((_, f),) = r.feed(crash)
    assert f.evidence["last_orderly_stop_at"] == "2022-05-29T06:53:00+00:00"
    assert f.evidence["last_line_at"] == "2022-05-29T11:55:00+00:00"


def test_a_syslog_stop_among_the_last_lines_is_a_clean_stop() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    stop = PLEMMA_RSYSLOG_RESTART.splitlines()[1].replace("May 29 06:53:50", "May 22 23:10:00")
    r.feed(stop, after=0)
    assert r.feed(PLEMMA_BOOT.replace("May 22 22:53:4", "May 22 23:14:4")) == []


def test_a_stop_in_the_boots_own_minute_counts_as_before_it() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    stop = PLEMMA_RSYSLOG_RESTART.splitlines()[1].replace("May 29 06:53:50", "May 22 22:53:02")
    assert r.feed(stop + "\n" + PLEMMA_BOOT.strip()) == []


def test_a_second_boot_marker_and_a_reexecution_are_not_new_boots() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    later = """
May 22 22:55:10 vultr systemd[1]: systemd 241 running in system mode. (+PAM +AUDIT +SELINUX)
May 22 23:40:00 vultr systemd[1]: Reexecuting.
May 22 23:40:01 vultr systemd[1]: systemd 241 running in system mode. (+PAM +AUDIT +SELINUX)
"""
    found = r.feed(PLEMMA_BOOT, after=0) + r.feed(later)
    assert [f.started_at for _, f in found] == [from_minute(at("2022-05-22 22:53"))]


def test_evaluating_a_window_again_does_not_fire_again() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    rows = r.rows(PLEMMA_BOOT)
    m = min(rows)
    r.tick(m, m + 1, rows[m])
    before = dict(r.state)
    r.state = before
    again = r.tick(m, m + 1, rows[m])
    assert again == [] and r.state == before
    assert len(r.tick(m + 1, m + 3, rows.get(m + 1, []))) == 1


def test_a_catch_up_window_finds_what_minute_windows_find() -> None:
    one = Replay(2005)
    one.feed(LOGHUB_FIRST_BOOT)
    found_one = one.feed(LOGHUB_CRASH_0727)
    many = Replay(2005)
    many.feed(LOGHUB_FIRST_BOOT)
    rows = many.rows(LOGHUB_CRASH_0727)
    start, end = min(rows), max(rows) + FINE
    found_many = many.tick(start, end, [r for m in sorted(rows) for r in rows[m]])
    assert [dataclasses.replace(f, at=f.started_at) for _, f in found_one] == [
        dataclasses.replace(f, at=f.started_at) for _, f in found_many
    ]
    assert one.state == many.state


def test_idle_hosts_skipped_on_the_same_state_objects_change_nothing() -> None:
    # A relay of many hosts: each tick skips the hosts it validated before that neither
    # log nor wait for a verdict; it must find and keep exactly what a fresh reading does,
    # here a verdict given two idle minutes after the boot.
    idle = "\n".join(
        f"May 21 23:5{k}:00 web-{k} CRON[1{k}]: (root) CMD (run-parts /etc/cron.hourly)"
        for k in range(1, 6)
    )
    replays = [Replay(2022), Replay(2022, in_memory=True)]
    found = []
    for r in replays:
        r.feed(idle, after=0)
        r.feed(PLEMMA_BEFORE, after=0)
        found.append(r.feed(PLEMMA_BOOT))
    assert found[0] == found[1] and len(found[0]) == 1
    assert found[0][0][0] == at("2022-05-22 22:55")
    assert replays[0].state == json.loads(json.dumps(replays[1].state))
    assert {"web-1", "web-5", "vultr"} <= set(replays[1].state)


class _VisitingAll(UncleanRebootDetector):
    """The detector visiting every host it knows on every tick (the reference below)."""

    def _idle_due(self, host: str, raw: Any) -> int | None:
        return None


def test_a_tick_that_visits_the_hosts_that_log_or_fall_due_finds_what_visiting_all_finds() -> None:
    # Idle hosts of a relay, forgotten in plemma's quiet day (an hour and twelve minutes
    # after their last line), then plemma's unclean boot and its verdict two quiet
    # minutes later: the index of when a host without lines has work gives the same
    # findings and state as visiting every host.
    idle = "\n".join(
        f"May 21 23:5{k}:00 web-{k} CRON[1{k}]: (root) CMD (run-parts /etc/cron.hourly)"
        for k in range(1, 6)
    )
    config = UncleanRebootConfig(forget_after_days=0.05)  # 72 minutes
    replays = [
        Replay(2022, det=_VisitingAll(config), in_memory=True),
        Replay(2022, det=UncleanRebootDetector(config), in_memory=True),
        Replay(2022, det=UncleanRebootDetector(config)),
    ]
    found = []
    for r in replays:
        r.feed(idle, after=0)
        r.feed(PLEMMA_BEFORE, after=0)
        found.append(r.feed(PLEMMA_BOOT))
    assert found[0] == found[1] == found[2] and len(found[0]) == 1
    assert replays[0].state == replays[1].state == replays[2].state
    assert set(replays[1].state) == {"vultr"}  # the idle hosts forgotten


def test_a_state_changed_under_the_detector_is_read_again() -> None:
    r = Replay(2005, in_memory=True)
    r.feed(LOGHUB_FIRST_BOOT)
    r.state = {**r.state, "combo": {"v": r.det.state_version, "t": "not a minute"}}
    r.tick(r.end, r.end + 1, [])
    assert "combo" not in r.state  # validated and dropped, not skipped as trusted


# -- elemoine_kern.log: a workstation's kernel log, nightly suspend -------------------

# lines 120-121, 253, then the boot of 01-04 18:44:31 (lines 1032, 1739)
ELEMOINE = """
Jan  3 22:41:57 elemoine kernel: [39489.243719] PM: Syncing filesystems ... done.
Jan  3 22:41:57 elemoine kernel: [39489.250420] PM: Preparing system for mem sleep
Jan  4 08:25:20 elemoine kernel: [39495.512001] PM: Finishing wakeup.
Jan  4 09:32:31 elemoine kernel: [41317.935237] PM: Syncing filesystems ... done.
Jan  4 18:44:31 elemoine kernel: [    0.000000] Linux version 3.19.0-25-generic (buildd@lgw01-20) (gcc version 4.8.2 (Ubuntu 4.8.2-19ubuntu1) ) #26~14.04.1-Ubuntu SMP Fri Jul 24 21:16:20 UTC 2015
Jan  4 18:44:31 elemoine kernel: [    1.820348] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)
"""


def test_a_kernel_only_boot_without_journal_recovery_is_silent() -> None:
    assert Replay(2016).feed(ELEMOINE) == []


def test_a_kernel_only_boot_with_journal_recovery_is_an_unclean_reboot() -> None:
    crashed = ELEMOINE.replace(
        "mounted filesystem with ordered data mode. Opts: (null)", "recovery complete"
    )
    ((_, f),) = Replay(2016).feed(crashed)
    assert f.evidence["rules"] == ["fs_recovery"]
    assert f.summary.endswith("the kernel replayed the EXT4 journal at boot")
    assert "(kernel: " in f.summary


def test_a_suspend_as_the_last_line_is_an_orderly_stop() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    r.feed("May 22 23:00:00 vultr systemd-sleep[901]: Suspending system...", after=0)
    assert r.feed(PLEMMA_BOOT.replace("May 22 22:53:4", "May 23 07:00:4")) == []


# -- state and config ------------------------------------------------------------------


def test_a_host_silent_for_longer_than_the_forget_period_is_dropped() -> None:
    r = Replay(2016, det=UncleanRebootDetector(UncleanRebootConfig(forget_after_days=1)))
    r.feed(ELEMOINE, after=0)
    assert "elemoine" in r.state
    end = r.end or 0
    r.tick(end, end + 2 * 24 * 60, [])
    assert r.state == {}


def test_the_report_delay_must_fit_in_the_recovery_window() -> None:
    with pytest.raises(ValidationError, match="report_after_minutes"):
        UncleanRebootConfig(report_after_minutes=20, recovery_within_minutes=10)


def test_it_is_registered_under_its_name() -> None:
    assert DETECTORS["unclean_reboot"] is UncleanRebootDetector


def test_the_initrds_journal_stopping_right_after_a_boot_is_no_shutdown() -> None:
    r = Replay(2022)
    r.feed(PLEMMA_BEFORE, after=0)
    r.feed(PLEMMA_BOOT, after=0)
    initrd_and_after = """
May 22 22:54:30 vultr systemd-journald[180]: Journal stopped
May 22 22:56:10 vultr dockerd[444]: time="2022-05-22T22:56:10.471059111Z" level=info msg="NetworkDB stats vultr.guest(72946810a036)"
"""
    r.feed(initrd_and_after, after=0)
    found = r.feed(PLEMMA_BOOT.replace("May 22 22:53:4", "May 22 23:02:4"))
    assert [f.started_at for _, f in found] == [from_minute(at("2022-05-22 23:02"))]
