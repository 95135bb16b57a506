"""The time at the start of an application's log line, for lines of no other format.

Programs that write their own log files put a timestamp first, in one of a few
shapes that their logging libraries fix (a user rarely changes them):

- `2026-03-04 10:00:00,123`: Python's `logging` (`%(asctime)s`), log4j and logback's
  `%d` (Hadoop, ZooKeeper, Kafka, Tomcat, Elasticsearch);
- `2026-03-04T10:00:00.123456Z` (or `+01:00`, `+0100`, `+01`): ISO 8601 loggers
  (MySQL 8, Go's `slog`, .NET, Docker);
- `2026-03-04 10:00:00.123 UTC`: PostgreSQL (`log_line_prefix = '%m ...'`); with an
  offset after a blank, gunicorn (`[2026-03-04 10:00:00 +0000]`);
- `2026-03-04  9:00:00 0 [Note]`: MariaDB's error log from 10.1.2 (the hour padded with
  a blank, then the thread id and the level);
- `2026-03-04 10:00:00.123456 E | etcdserver: ...`: capnslog (etcd before 3.4): the
  letter before the bar is the line's level;
- `2026/03/04 10:00:00`: nginx's error log, Go's `log` package (`LstdFlags`; with
  `.123456` for `Lmicroseconds`); after `[pid] `, the NATS server's log;
- `[error] 2026-03-04T10:00:00.123000Z couchdb@x ...`: CouchDB, its level in brackets
  before the stamp; `ERROR [main] 2026-03-04 10:00:01,123 ...`: Cassandra, its level and
  thread before it; `2026-03-04T10:00:00.123+0000 E STORAGE  [ctx] ...`: MongoDB before
  4.4, the severity's letter after it; `2026-03-04 10:00:00.123456 7f8c2b3fe700 -1 ...`:
  Ceph, its thread and the entry's priority after it;
- `  1234:20260304:100000.123 `: Zabbix (the process id padded with blanks, the date, the
  time);
- `26/03/04 10:00:00`: log4j's `%d{yy/MM/dd HH:mm:ss}`, Spark's default pattern (read
  year first, as log4j writes it, never day first);
- `260304 10:00:00` or `260304  9:00:00`: MySQL before 5.7 and MariaDB before 10.1.2
  (their error log, InnoDB's messages, the fatal-signal handler, mysqld_safe, the
  general query log: C's `"%02d%02d%02d %2d:%02d:%02d"` of the local time, the hour
  padded with a blank), MariaDB's audit plugin;
- `[04-Mar-2026 10:00:00 Europe/Berlin]`: PHP's error log (its zone an IANA name, or
  `UTC`), php-fpm's own (`[04-Mar-2026 10:00:00]`, local), Tomcat's catalina log
  (`04-Mar-2026 10:00:00.123 INFO [main] ...`);
- `[2026/03/04 10:00:00.123456,  0] ../../source3/smbd/server.c:1234(main)`: Samba's
  debug header (log.smbd, log.nmbd, log.winbindd): the time, then its debug level,
  which is not read as the line's (Samba logs its startup banner at level 0, as
  errors); the message follows on the next, unstamped, line; Pi-hole's FTL before v6
  (`[2021-05-01 12:00:00.123 1234M] ...`, its process and thread in the bracket);
- `[Wed Mar 04 10:00:00.123456 2026]`: Apache httpd's error log and `dmesg -T` (C's
  `ctime` shape, also without brackets);
- `[Mar  4 10:00:02] ERROR[1234] chan_sip.c: ...`: Asterisk (the year-less date in
  brackets takes its year as a syslog stamp does);
- `1:M 04 Mar 2026 10:00:00.123 #`: Redis (3.0 on), after its process id and role:
  the mark after the stamp is the line's level (`.` debug, `-` verbose, `*` notice,
  `#` warning), the process id the line's `pid`;
- `03-04 10:00:00.123  1702  2395 E`: Android's `logcat -v threadtime` (what
  `adb logcat` and bug reports write): the date has no year (as klog's, below), the
  process id is the line's `pid`, the letter after the thread id its level (`V`, `D`
  debug, `I`, `W`, `E`, `F` and `A` critical);
- `Mar 04, 2026 1:05:09 PM`: java.util.logging's SimpleFormatter (the first line of
  each record, its level and message on the next: Tomcat's catalina.out before 8,
  Jenkins, any Java program on JUL's defaults; the hour 1 to 12, `AM`/`PM`);
- `Jan 05, 2021 12:22:41.452 [0x7f6f5d7fa700] DEBUG - ...`: Plex Media Server (a
  24-hour clock with milliseconds; the level after the thread);
- `1286536309.450`: Squid's native access.log (`%ts.%03tu`: seconds since the epoch
  and their milliseconds, UTC); `1796193878: `, Mosquitto's log (the seconds, a colon);
  `[1796193878] unbound[812:0] info: ...`, Unbound's log file (the seconds in brackets);
- `E0304 10:00:00.123456`: klog and glog (Kubernetes' components, Go programs using
  glog): the letter is the line's level (`I`, `W`, `E`, `F`), the date has no year
  (the year of a file's other year-less stamps: `--year`, else the latest that does
  not put the line after the input's time of reference, as for syslog).

Any of them may stand in square brackets (`[2026-03-04 10:00:00,123] INFO ...`,
Elasticsearch's `[2026-03-04T10:00:00,123][INFO ]`). A bare stamp must be followed by
a blank, a `[`, a `|`, a comma and a blank (Windows' CBS.log: `2016-09-28 04:30:30,
Info  CBS ...`), a colon and a word after a fraction of a second (Python's logging as
certbot configures it, `%(asctime)s:%(levelname)s:%(name)s:%(message)s`) or the end of
the line, so that a number that merely starts like a date is not taken for one. A
stamp without a zone is a local time of the input's zone (`--timezone`, `timezone:`);
`Z`, an offset, `UTC` or `GMT` say theirs.

One stamp is read where it is not first: the access log's (Apache httpd's common and
combined formats, nginx's `combined`: `%h %l %u %t "%r" %>s %b`; also after the virtual
host and port of Apache's `vhost_combined`, Debian's other_vhosts_access.log), after
the client's address, ident and user: `203.0.113.9 - - [04/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1"
500 0`. A status of 500 to 599 (the server failed the request) makes the line an error.

And one in a logfmt line (`key=value` pairs: Go's go-kit log and logrus' text form,
Prometheus, Loki, Grafana, Traefik): the ISO 8601 value of its `ts`, `time`, `t` or
`timestamp` key, quoted or not (`level=info ts=2026-03-04T10:00:00.123Z caller=main.go:12
msg="Starting"`), in a line that starts with a key; the pair is taken out of the message.

`leading_stamp(text)` finds the stamp and says where the rest of the line begins;
`access_stamp(text)` finds an access log's, `logfmt_stamp(text)` a logfmt line's.
Shapes left out on purpose: day-first dates (`04/03/2026`: which is the month?),
other year-less ones (a bare `03-04 10:00:00`: its month-day is a common shape of
other things; logcat's is known by the process, thread and level after it), and
other stamps that are not at the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from logvigil.core.events import Severity
from logvigil.core.timeutil import time_zone
from logvigil.ingest.formats import _common as c
from logvigil.ingest.formats.years import bsd_year
from logvigil.ingest.severity import initial_severity, letter_severity

#: The minutes, seconds and a fraction of a second, after the hour and its colon.
_MINUTES = r"(?P<mi>\d\d):(?P<s>\d\d)(?:[.,](?P<frac>\d{1,9}))?"
_CLOCK = r"(?P<h>\d\d):" + _MINUTES
# A zone written right after the clock (`Z`, `+01:00`, `+0100`, `+01`), or after a
# blank as gunicorn and PostgreSQL write it (`+0000`, `+01:00`, `UTC`, `GMT`): the
# blank form needs four digits, so that `10:00:00 -1 retries` keeps its `-1`.
_ZONE = r"(?:(?P<zone>Z|[+-]\d\d(?::?\d\d)?| (?:[+-]\d\d:?\d\d|UTC|GMT))(?![\w:+-]))?"
_PATTERNS = {
    # The hour may be padded with a blank after a blank: MariaDB's error log (10.1.2 on,
    # sql/log.cc: "%d-%02d-%02d %2d:%02d:%02d %lu [%s] ", `2026-03-04  9:00:00 0 [Note]`).
    # capnslog (etcd before 3.4, CoreOS' Go programs: "%s %s | %s: " of the time, the
    # level's letter and the package) puts its level after the stamp: `2026-03-04
    # 10:00:00.123456 E | etcdserver: publish error`; so does MongoDB before 4.4 ("<time>
    # <severity> <component, 8 wide> [<context>] ...": `2026-03-04T10:00:00.123+0000 E
    # STORAGE  [initandlisten] WiredTiger error`); Ceph's daemons write the thread and the
    # entry's priority ("%s %s %2d %s": -1 an error, 0 always shown, 1 to 20 debug):
    # `2026-03-04 10:00:00.123456 7f8c2b3fe700 -1 osd.3 1234 heartbeat_check: no reply`.
    "-": re.compile(
        r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)(?:T(?=\d)| )(?P<h>[ \d]\d):"
        + _MINUTES
        + _ZONE
        + r"(?: (?P<capnslog>[CEWNIDT]) \|(?= )| (?P<mongo>[FEWID])(?= (?:[A-Z_]{2,12}|-) +\[)"
        + r"| [0-9a-f]{12,16} +(?P<ceph>-1|\d{1,2})(?= ))?"
    ),
    "/": re.compile(r"(?P<y>\d{4})/(?P<mo>\d\d)/(?P<d>\d\d) " + _CLOCK),
    "yy": re.compile(r"(?P<yy>\d\d)/(?P<mo>\d\d)/(?P<d>\d\d) " + _CLOCK),
    # MySQL's and MariaDB's older logs: "%02d%02d%02d %2d:%02d:%02d" (yymmdd, a blank-
    # padded hour); the month and day are checked here, so that another line that
    # starts with six digits and a clock is not rejected as an impossible date.
    "mysql": re.compile(
        r"(?P<yy>\d\d)(?P<mo>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01]) "
        r"(?P<h>[ \d]\d):(?P<mi>\d\d):(?P<s>\d\d)"
    ),
    # PHP's error log ("[04-Mar-2026 10:00:00 Europe/Berlin]": php_log_err, "d-M-Y H:i:s
    # e", the zone an IANA name), php-fpm's ("[04-Mar-2026 10:00:00]", local), Tomcat's
    # catalina log (OneLineFormatter: "04-Mar-2026 10:00:00.123 INFO [main] ...").
    "dmy": re.compile(
        r"(?P<d>\d\d)-(?P<mon>"
        + "|".join(c.MONTHS)
        + r")-(?P<y>\d{4}) "
        + _CLOCK
        + r"(?: (?P<zone>UTC|GMT|[A-Z][A-Za-z]+(?:/[A-Za-z0-9_+-]+)+))?"
    ),
    # Redis' serverLogRaw: "%d:%c %d %b %Y %H:%M:%S.%03d %c " (pid, role, level mark).
    "redis": re.compile(
        r"(?P<pid>\d{1,10}):[XCSM] (?P<d>\d\d) (?P<mon>"
        + "|".join(c.MONTHS)
        + r") (?P<y>\d{4}) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)\.(?P<frac>\d{3}) "
        r"(?P<mark>[.*#-])(?= |$)"
    ),
    # logcat's threadtime: "%02d-%02d %02d:%02d:%02d.%03d %5d %5d %c " (logprint.cpp).
    "logcat": re.compile(
        r"(?P<mo>\d\d)-(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)\.(?P<frac>\d{3})"
        r" +(?P<pid>\d{1,10}) +\d{1,10} (?P<android>[VDIWEFA])(?= )"
    ),
    # java.util.logging's SimpleFormatter, a record's first line (Java 7 on: "%1$tb %1$td,
    # %1$tY %1$tl:%1$tM:%1$tS %1$Tp", the hour 1 to 12 unpadded; Java 6's "{0,date}
    # {0,time}" in an English locale, the day unpadded too); its level and message follow
    # on the next line.
    "jul": re.compile(
        r"(?P<mon>"
        + "|".join(c.MONTHS)
        + r") (?P<d>\d{1,2}), (?P<y>\d{4}) (?P<h>1[0-2]|0?[1-9]):(?P<mi>\d\d):(?P<s>\d\d)"
        r" (?P<ampm>[AP]M)"
    ),
    # Plex Media Server's log: the same date, a 24-hour clock with milliseconds, then
    # the thread and the level ("Jan 05, 2021 12:22:41.452 [0x7f6f5d7fa700] DEBUG - ...").
    "plex": re.compile(
        r"(?P<mon>"
        + "|".join(c.MONTHS)
        + r") (?P<d>\d\d), (?P<y>\d{4}) (?P<h>[01]\d|2[0-3]):(?P<mi>\d\d):(?P<s>\d\d)"
        r"\.(?P<frac>\d{3})"
    ),
    # Asterisk's log files (logger.conf's default dateformat "%b %e %T", in brackets):
    # `[Mar  4 10:00:02] ERROR[1234] chan_sip.c: ...`, a year-less date read as syslog's.
    "bsd": re.compile(r"(?P<mon>" + "|".join(c.MONTHS) + r") {1,2}(?P<d>\d{1,2}) " + _CLOCK),
    # Squid's native access.log ("%ts.%03tu %6tr %>a %Ss/%03>Hs ...": seconds since the
    # epoch and their milliseconds), ten digits: 2001-09-09 to 2286.
    # Mosquitto's log (logging.c, `log_timestamp` on by default: "%d: " of the time in
    # seconds): the seconds and a colon. Unbound's log file (util/log.c: "[%lld] %s[%d:%x]
    # %s: %s", the seconds in brackets, then the program, its process and thread).
    "epoch": re.compile(r"(?P<epoch>[1-9]\d{9})(?:\.(?P<frac>\d{3})|:(?= )|(?=\] ))"),
    # Zabbix's server, proxy and agent logs (log.c: "%6li:%.4d%.2d%.2d:%.2d%.2d%.2d.%03ld ",
    # the process id padded with blanks, the date and the local time, its milliseconds).
    "zabbix": re.compile(
        r" {0,9}(?P<pid>\d{1,10}):(?P<y>\d{4})(?P<mo>\d\d)(?P<d>\d\d):(?P<h>\d\d)(?P<mi>\d\d)"
        r"(?P<s>\d\d)\.(?P<frac>\d{3})"
    ),
    # klog always writes microseconds: `E0304 10:00:00.123456`.
    "klog": re.compile(
        r"(?P<level>[IWEF])(?P<mo>\d\d)(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
        r"\.(?P<frac>\d{6})"
    ),
    "ctime": re.compile(
        r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<mon>"
        + "|".join(c.MONTHS)
        + r") {1,2}(?P<d>\d{1,2}) "
        + _CLOCK
        + r" (?P<y>\d{4})"
    ),
}
#: What may follow a bare stamp.
_AFTER = frozenset(" \t[|")


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs 2 us a line here
class Stamp:
    """A stamp's fields as written (not checked: February 30th is possible; `year`
    None: a year-less stamp), its zone's text (None: local to the input), the level
    and the process id it holds (klog's letter, Redis' and logcat's level and pid), the
    stamp's text
    and where the rest of the line starts."""

    year: int | None
    month: int
    day: int
    hour: int
    minute: int
    second: int
    microsecond: int
    zone: str | None
    level: Severity | None
    pid: str | None
    text: str
    end: int
    #: What the line holds before the stamp (an access log's client, ident and user; a
    #: logfmt line's pairs before its time).
    head: str = ""
    #: The program the line names after the stamp (Unbound's `unbound[812:0] `), if any.
    program: str | None = None


def leading_stamp(text: str) -> Stamp | None:
    """The timestamp `text` starts with, in one of the shapes above; None without one."""
    if text[:1] == "[":
        first = _BEFORE_STAMP.match(text)
    elif text[:1] in "TDIWEF":
        first = _LEVEL_THREAD.match(text)
    else:
        first = None
    if first is None:
        stamp = _stamp_at_start(text)
        if stamp is not None and text[:1] == "[" and stamp.text.isdigit():  # [seconds]
            _unbound_ident(stamp, text)
        return stamp
    stamp = _stamp_at_start(text[first.end() :])
    if stamp is not None:
        stamp.end += first.end()
        if (pid := first.groupdict().get("pid")) is not None:
            stamp.pid = pid
        elif stamp.level is None:
            stamp.level = Severity.parse(first.group("level"))
    return stamp


#: What may stand in brackets before the stamp: NATS' process id (logger/log.go: `[pid] `
#: before Go's `log` stamp, which writes its prefix first: `[3014] 2026/03/04
#: 10:00:00.945439 [INF] Starting nats-server`), CouchDB's level (couch_log_formatter,
#: "[~s] ~s ~s ~p ~s ": the level, the time, the node, the process, the request:
#: `[error] 2026-03-04T10:00:00.123000Z couchdb@127.0.0.1 <0.1234.0> -------- ...`).
_BEFORE_STAMP = re.compile(
    r"\[(?:(?P<pid>\d{1,10})\] (?=\d{4}/\d\d/\d\d )"
    r"|(?P<level>debug|info|notice|warning|error|critical|alert|emergency)\] (?=\d{4}-\d\d-\d\dT))"
)


#: A level and a thread before the stamp: Cassandra's logback layout (`%-5level [%thread]
#: %date{ISO8601} %F:%L - %msg`): `ERROR [main] 2026-03-04 10:00:01,123 CassandraDaemon.java:
#: 749 - Exception encountered during startup`.
_LEVEL_THREAD = re.compile(
    r"(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL) {1,2}\[[^\]\n]{1,64}\] (?=\d{4}-\d\d-\d\d \d\d:)"
)


#: Unbound's ident after its seconds: the program, its process and its thread (hex).
_UNBOUND_IDENT = re.compile(
    r" (?P<program>[A-Za-z][\w.-]{0,63})\[(?P<pid>\d{1,10}):[0-9a-f]{1,16}\] "
)


def _unbound_ident(stamp: Stamp, text: str) -> None:
    """Take Unbound's `program[pid:thread] ` after the stamp into `stamp` (its program
    names the line's service, as a syslog tag does; its level word then opens the
    message: `error: can't bind socket`)."""
    ident = _UNBOUND_IDENT.match(text, stamp.end)
    if ident is not None:
        stamp.program, stamp.pid, stamp.end = ident["program"], ident["pid"], ident.end()


def _stamp_at_start(text: str) -> Stamp | None:
    bracket = text[:1] == "["
    start = 1 if bracket else 0
    m = _match(text, start)
    if m is None:
        return None
    end = m.end()
    if bracket:
        if text[end : end + 1] != "]":
            if (tail := _BRACKET_TAIL.match(text, end)) is None:
                return None
            end = tail.end() - 1  # Samba's debug level, Pi-hole's process: not the time
        end += 1
    elif end < len(text) and text[end] not in _AFTER:
        if text[end : end + 2] != ", " and not _colon_then_level(m, text, end):
            return None
        end += 1
    return _stamp(m.groupdict(), text[start : m.end()], end)


#: What may follow the time inside its bracket: Samba's debug header (lib/util/debug.c:
#: `[%s, %2d` then, with `debug pid`, `debug uid` or `debug class`, `, pid=1234,
#: effective(0, 0), real(0, 0), class=auth`; the level is not the line's: Samba logs its
#: startup banner at level 0, as errors), and Pi-hole's FTL before v6 (`[%s %s] `, the
#: process id and `M` for its main thread, `/T` and a thread's id, `/F` and a fork's).
_BRACKET_TAIL = re.compile(r"(?:, {1,2}\d{1,3}(?:, [^\]]{1,200})?| \d{1,10}(?:M|/[TF]\d{1,10}))\]")


def _colon_then_level(m: re.Match[str], text: str, end: int) -> bool:
    """Whether a stamp with a fraction is followed by a colon and a word: Python's
    logging with `%(asctime)s:%(levelname)s:...` (certbot's letsencrypt.log:
    `2026-03-04 10:00:00,123:ERROR:certbot...`). Without the fraction a colon would
    be a fourth field of the clock."""
    return (
        text[end] == ":"
        and "frac" in m.re.groupindex
        and m.group("frac") is not None
        and text[end + 1 : end + 2].isalpha()
    )


def _stamp(
    g: dict[str, Any], text: str, end: int, head: str = "", level: Severity | None = None
) -> Stamp:
    """The Stamp of a match's groups (`y` or `yy`, `mo` or `mon`, `d`, `h`, `mi`, `s`, and
    those of them that are there of `frac`, `zone`, `pid` and a level's; or `epoch`
    and `frac`; `ampm` after a 12-hour `h`)."""
    if (epoch := g.get("epoch")) is not None:
        at = datetime.fromtimestamp(int(epoch), UTC)
        g = g | {"y": at.year, "mo": at.month, "d": at.day, "h": at.hour, "mi": at.minute,
                 "s": at.second, "zone": "Z"}  # fmt: skip
    if g.get("y"):
        year: int | None = int(g["y"])
    else:
        year = 2000 + int(g["yy"]) if g.get("yy") else None
    frac = g.get("frac")
    return Stamp(
        year=year,
        month=c.MONTHS[g["mon"]] if g.get("mon") else int(g["mo"]),
        day=int(g["d"]),
        hour=int(g["h"]) if g.get("ampm") is None else _hour_of_day(g["h"], g["ampm"]),
        minute=int(g["mi"]),
        second=int(g["s"]),
        microsecond=int(frac[:6].ljust(6, "0")) if frac else 0,
        zone=g.get("zone"),
        level=level or _level(g),
        pid=g.get("pid"),
        text=text,
        end=end,
        head=head,
    )


def _hour_of_day(hour: str, half: str) -> int:
    """The hour 0 to 23 of a 12-hour clock's `hour` (1 to 12) and `AM` or `PM`."""
    return int(hour) % 12 + (12 if half == "PM" else 0)


#: `%h %l %u [%t]`: the client (an address or a name), ident, user (nginx quotes an
#: odd one), then the time as `[%d/%b/%Y:%H:%M:%S %z]`; Proxmox VE's pveproxy writes the
#: month as a number (`[%d/%m/%Y:%H:%M:%S %z]`, day first as the common log format).
_ACCESS = re.compile(
    r'(?P<head>(?:[^\s"\[]+:\d{1,5} )?[^\s"\[]+ \S+ (?:"[^"]*"|[^\s"\[]+)) '
    r"\[(?P<d>\d\d)/(?:(?P<mon>"
    + "|".join(c.MONTHS)
    + r")|(?P<mo>0[1-9]|1[0-2]))/(?P<y>\d{4}):(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
    r" (?P<zone>[+-]\d{4})\]"
)
#: After the time: the request line, quoted (with `\"` inside), and the status.
_STATUS = re.compile(r' "(?:[^"\\]|\\.)*" (?P<status>\d{3})\b')


def access_stamp(text: str) -> Stamp | None:
    """The time of an access log's line (`%h %l %u %t "%r" %>s`), with the line's level
    when the server failed the request (a 5xx status: ERROR); None for another line."""
    m = _ACCESS.match(text)
    if m is None:
        return None
    status = _STATUS.match(text, m.end())
    failed = status is not None and status.group("status")[0] == "5"
    return _stamp(
        m.groupdict(),
        text[m.start("d") : m.end("zone")],
        m.end(),
        head=m.group("head"),
        level=Severity.ERROR if failed else None,
    )


#: A logfmt line starts with a key and `=`.
_LOGFMT_START = re.compile(r"[A-Za-z_][\w.-]*=")
#: Its time: `ts=`, `time=`, `t=` or `timestamp=`, then ISO 8601, perhaps quoted.
_LOGFMT_TIME = re.compile(r'(?:^| )(?:ts|time|t|timestamp)=(?P<q>"?)(?=\d{4}-)')


def logfmt_stamp(text: str) -> Stamp | None:
    """The time of a logfmt line (its `ts=` / `time=` / `t=` / `timestamp=` pair, whose
    text `Stamp.head` and `end` then cut out: `head` is what comes before the pair);
    None for another line."""
    if _LOGFMT_START.match(text) is None:
        return None
    key = _LOGFMT_TIME.search(text)
    if key is None:
        return None
    pos = key.end()
    m = _PATTERNS["-"].match(text, pos)
    if m is None:
        return None
    end = m.end()
    if key.group("q"):
        if text[end : end + 1] != '"':
            return None
        end += 1
    if end < len(text) and text[end] != " ":
        return None
    return _stamp(m.groupdict(), text[pos : m.end()], end, head=text[: key.start()])


def _match(text: str, pos: int) -> re.Match[str] | None:
    """The stamp at `pos`, choosing the shape by its first characters."""
    head = text[pos : pos + 5]
    if len(head) < 5:
        return None
    if head[0].isdigit():  # every shape that starts with a digit, else none of them
        if head[:4].isdigit() and head[4] in "-/":
            pattern = _PATTERNS[head[4]]
        elif head[1].isdigit() and head[2] == "/":
            pattern = _PATTERNS["yy"]
        elif head[1].isdigit() and head[2] == "-":
            pattern = _PATTERNS["dmy" if head[3].isalpha() else "logcat"]
        elif head.isdigit() and text[pos + 10 : pos + 11] in (".", ":", "]"):
            pattern = _PATTERNS["epoch"]  # Squid's, Mosquitto's, Unbound's seconds since 1970
        elif (
            head.isdigit() and text[pos + 5 : pos + 6].isdigit() and text[pos + 6 : pos + 7] == " "
        ):
            pattern = _PATTERNS["mysql"]  # yymmdd, then the clock
        elif ":" in text[pos : pos + 11]:  # Redis' `pid:role`, Zabbix
            return _PATTERNS["redis"].match(text, pos) or _PATTERNS["zabbix"].match(text, pos)
        else:
            return None
    elif head[0] == " " and text[pos : pos + 16].lstrip(" ")[:1].isdigit():
        pattern = _PATTERNS["zabbix"]  # its process id padded with blanks
    elif head[0] in "IWEF" and head[1:].isdigit():
        pattern = _PATTERNS["klog"]
    elif head[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        pattern = _PATTERNS["ctime"]
    elif head[3] == " " and head[:3] in c.MONTHS:
        found = None
        if "," in text[pos + 5 : pos + 7]:  # the day and its comma: `Jan 5, 2021`
            found = _PATTERNS["jul"].match(text, pos) or _PATTERNS["plex"].match(text, pos)
        if found is None and pos == 1:  # in brackets: Asterisk's; bare, it is syslog's
            found = _PATTERNS["bsd"].match(text, pos)
        return found
    else:
        return None
    return pattern.match(text, pos)


#: logcat's priority letters (android/log.h: VERBOSE .. FATAL; `A` is `assert`).
_ANDROID_LEVELS = {
    "V": Severity.DEBUG,
    "D": Severity.DEBUG,
    "I": Severity.INFO,
    "W": Severity.WARNING,
    "E": Severity.ERROR,
    "F": Severity.CRITICAL,
    "A": Severity.CRITICAL,
}
#: Ceph's priorities: -1 an error (derr), 0 a message always logged; 1 to 20 are debug.
_CEPH_PRIORITY = {"-1": Severity.ERROR, "0": Severity.INFO}
#: Redis' level marks (server.h: LL_DEBUG, LL_VERBOSE, LL_NOTICE, LL_WARNING).
_REDIS_LEVELS = {
    ".": Severity.DEBUG,
    "-": Severity.DEBUG,
    "*": Severity.NOTICE,
    "#": Severity.WARNING,
}


def _level(g: dict[str, Any]) -> Severity | None:
    """The level a stamp holds: klog's, logcat's, capnslog's or MongoDB's letter, Redis'
    mark or Ceph's priority."""
    if (letter := g.get("level")) is not None:
        return letter_severity(letter)
    if (mark := g.get("mark")) is not None:
        return _REDIS_LEVELS[mark]
    if (letter := g.get("android")) is not None:
        return _ANDROID_LEVELS[letter]
    if (letter := g.get("capnslog") or g.get("mongo")) is not None:
        return initial_severity(letter)
    if (priority := g.get("ceph")) is not None:
        return _CEPH_PRIORITY.get(priority, Severity.DEBUG)
    return None


def _zone(written: str | None) -> tzinfo | None:
    """The zone of a stamp's zone text (None: none written). Raises ValueError for an
    offset of 24 hours or more."""
    if written is None:
        return None
    z = written.strip()
    if z in ("Z", "UTC", "GMT"):
        return UTC
    if "/" in z:  # an IANA name, as PHP writes it
        return time_zone(z)
    tz = c.fixed_offset(z)
    if tz is None:
        raise ValueError(f"invalid UTC offset {z!r}")
    return tz


def stamp_utc(stamp: Stamp, ctx: c.Context) -> tuple[datetime, str | None] | str:
    """The UTC time of `stamp` (without a zone, a local time of the input's zone; without
    a year, the input's given year or the latest one not after its time of reference,
    `years.bsd_year`) and its daylight-saving case (`_common.dst_case`), or why it is no
    time."""
    year = stamp.year
    try:
        tz = _zone(stamp.zone) or ctx.naive_tz
        if year is None:
            if ctx.year is not None:
                year = ctx.year.of(stamp.month)
            elif 1 <= stamp.month <= 12:
                year = bsd_year(stamp.month, stamp.day, ctx.now.astimezone(tz))
        if year is None:
            minute = None
        else:
            minute, case = c.local_minute(
                year, stamp.month, stamp.day, stamp.hour, stamp.minute, tz
            )
    except ValueError:
        minute = None
    if minute is None or stamp.second > 59:
        if year is not None and not c.MIN_YEAR <= year <= c.MAX_YEAR:
            return c.out_of_range(stamp.text, "timestamp")
        return f"invalid date {c.quote(stamp.text)}"
    if stamp.zone is not None:
        case = None  # a written zone is never ambiguous
    return minute + timedelta(seconds=stamp.second, microseconds=stamp.microsecond), case
