"""The supercomputer system logs of the USENIX Computer Failure Data Repository (Sandia's
Thunderbird, Liberty and Spirit, LLNL's Blue Gene/L; Oliner and Stearley, "What
Supercomputers Say", DSN 2007; Loghub's sets of the same names).

Their collection wrote, before each message, a field of the study's own (`-`, or the
category of an alert its authors found in the line: `EXT_FS`, `KERNDTLB`), the second
it was received (UNIX time, UTC), that day as `YYYY.MM.DD`, and the node:

    - 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: (root) CMD (...)
    - 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872
      R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected
      (one line)

The rest is the node's syslog line (Thunderbird, Liberty, Spirit: read by the syslog
reader for its program and message; its year-less local stamp gives way to the received
second) or a Blue Gene/L RAS event (`stamp location type component level message`: the
component is the program, the level the severity). The first field is the study's
label, not the machine's log: it is left out. A line is read so only when the second and
the day agree (within a day: the day is the collector's local one).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from logvigil.core.events import Severity

PREFIX = re.compile(
    r"(?P<alert>[^\s]{1,32}) (?P<epoch>\d{9,10}) (?P<day>\d{4}\.\d\d\.\d\d) (?P<node>\S{1,255})"
    r" (?P<rest>.*)",
    re.S,
)
#: A Blue Gene/L RAS event after the prefix (its stamp is the event's, in the machine's
#: local time: the received second is used instead).
BGL = re.compile(
    r"\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d\.\d{6} \S+ (?P<type>[A-Z]{2,16}) (?P<component>[A-Z_]{2,32})"
    r" (?P<level>INFO|WARNING|SEVERE|ERROR|FATAL|FAILURE) (?P<message>.*)",
    re.S,
)
#: Blue Gene/L's levels (its RAS event severities, worst last).
BGL_LEVELS = {
    "INFO": Severity.INFO,
    "WARNING": Severity.WARNING,
    "SEVERE": Severity.ERROR,
    "ERROR": Severity.ERROR,
    "FATAL": Severity.CRITICAL,
    "FAILURE": Severity.CRITICAL,
}
_SECONDS_PER_DAY = 86_400


def split(text: str) -> tuple[int, str, str] | None:
    """(the received second, UNIX time; the node; the rest) of a line with the prefix,
    or None. The second is the reader's to check (`_common.from_epoch`), as any other."""
    m = PREFIX.match(text)
    if m is None:
        return None
    epoch = int(m.group("epoch"))
    try:
        day = datetime.strptime(m.group("day"), "%Y.%m.%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    if abs(epoch - day.timestamp() - _SECONDS_PER_DAY / 2) > _SECONDS_PER_DAY * 1.5:
        return None  # another line that happens to start with two numbers
    return epoch, m.group("node"), m.group("rest")


def bgl_event(rest: str) -> tuple[str, Severity, str] | None:
    """(program, severity, message) of a Blue Gene/L RAS event, or None."""
    m = BGL.match(rest)
    if m is None:
        return None
    return m.group("component").lower(), BGL_LEVELS[m.group("level")], m.group("message")
