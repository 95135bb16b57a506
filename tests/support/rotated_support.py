"""A day of a Debian host's syslog, as logrotate leaves it: rsyslog's HUP at midnight
and cron.daily's run (shared by the readers' and the CLI's tests of rotated files)."""

from __future__ import annotations

import gzip
from pathlib import Path

HUP = (
    '{day} 00:00:01 web-01 rsyslogd: [origin software="rsyslogd" swVersion="8.2112.0" '
    'x-pid="812" x-info="https://www.rsyslog.com"] rsyslogd was HUPed\n'
)
CRON = (
    "{day} 06:25:01 web-01 CRON[{pid}]: (root) CMD (test -x /usr/sbin/anacron || "
    "{{ cd / && run-parts --report /etc/cron.daily; }})\n"
)


def day_lines(day: str, pid: int) -> bytes:
    return (HUP.format(day=day) + CRON.format(day=day, pid=pid)).encode()


def rotated_syslog(tmp_path: Path) -> Path:
    """/var/log as rsyslog's logrotate rule leaves it after four days."""
    log = tmp_path / "log"
    log.mkdir()
    (log / "syslog.3.gz").write_bytes(gzip.compress(day_lines("Nov 26", 1003)))
    (log / "syslog.2.gz").write_bytes(gzip.compress(day_lines("Nov 27", 1002)))
    (log / "syslog.1").write_bytes(day_lines("Nov 28", 1001))
    (log / "syslog").write_bytes(day_lines("Nov 29", 1000))
    return log
