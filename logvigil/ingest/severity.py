"""Severity inference: the declared level, raised by an explicit level token in the message.

Containers, supervisors and `StandardOutput=journal` services often log every
line at one priority (usually INFO), while the message itself starts with
`ERROR`, `level=error` or a Python traceback. `infer_severity` returns the
declared severity, *raised* (never lowered) to the level named by the first
explicit level token in the head of the message.

Only explicit level tokens count, never words in prose: `[ERROR]`, `ERROR:`,
`ERROR ` after a timestamp, `level=error`, `"level":"error"`, `E1121 10:00:00`
(klog/glog), `E, [2026-...` (Ruby), `Error:` or `panic:` at the very start,
`Traceback (most recent call last)`, `Exception in thread "...`, a capitalised
`Error:` after a program's prefix (Dovecot's `imap(alice)<4711><Kx8f>: Error:`),
Monolog's `[2026-03-04 10:00:00] production.ERROR:` (Laravel, Symfony),
Serilog's `[WRN]`
and `[FTL]`, NLog's `|Error|` opening a message, Gitea's `Func() [E]`, PHP's `PHP Fatal
error:`, `PHP Parse error:` (error) and `PHP Warning:`, and the fixed wording of a
few programs that write no level at all into a plain syslog file: the kernel's
`Kernel panic - not syncing:` (printed at KERN_EMERG), its report of a process
killed by a fault (`nginx[812]: segfault at 0 ip ...`, `traps: php[77] general
protection fault ip:...`), and systemd's
`x.service: Failed with result 'exit-code'.` (the unit is now in the failed
state; older systemd: `Unit x.service entered failed state.`), and ZFS's event daemon's
`eid=15 class=statechange pool='tank' vdev=sdd1 vdev_state=UNAVAIL` (also FAULTED,
DEGRADED, REMOVED: critical; zed logs every event at notice); Icinga 2's
`critical/ApiListener:`. Nagios' `SERVICE ALERT: web01;HTTP;CRITICAL;...` records a
monitored service's state, not a level of its own: INFO. Without any level
token, a web server's log of a request it failed (status 5xx: an access log's
`"GET / HTTP/1.1" 502`, HAProxy's `be/srv 0/0/1/2/3 503`) is an error.
"0 errors", "failed with error 5", "error_count=0", "errors: 0", "stderr",
"ErrorDocument", "on-error" and "battery level: critical" do not count.

Only tokens naming WARNING or worse raise anything (a DEBUG-declared line that
says `level=info` stays DEBUG). The *first* level token decides, including
INFO/DEBUG ones: in
`INFO retrying after ERROR from upstream` the logger said INFO, and the later
word is part of the text. docs/formats.md lists the rules with examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from logvigil.core.events import Severity
from logvigil.core.words import Words

#: Only this many leading characters are searched; a logger's level prefix or
#: a logfmt/JSON `level` key sits well inside it, and it bounds the cost of a
#: 64 KiB line.
HEAD_CHARS = 256

# What an explicit token means. Case-insensitive keys; values are the severity
# a token *names*. `panic` (Go, PostgreSQL) and `severe` (java.util.logging)
# are process- or request-fatal errors, not "system unusable": CRITICAL/ERROR.
_TOKENS: dict[str, Severity] = {
    "trace": Severity.DEBUG,
    "debug": Severity.DEBUG,
    "dbg": Severity.DEBUG,
    # Serilog's `{Level:u3}` (.NET: Jellyfin, Emby): VRB DBG INF WRN ERR FTL
    "vrb": Severity.DEBUG,
    "inf": Severity.INFO,
    "wrn": Severity.WARNING,
    "ftl": Severity.CRITICAL,
    "info": Severity.INFO,
    "information": Severity.INFO,  # Icinga 2's
    "notice": Severity.NOTICE,
    "warn": Severity.WARNING,
    "warning": Severity.WARNING,
    "err": Severity.ERROR,
    "error": Severity.ERROR,
    "severe": Severity.ERROR,
    "crit": Severity.CRITICAL,
    "critical": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "panic": Severity.CRITICAL,
    "alert": Severity.ALERT,
    "emerg": Severity.EMERGENCY,
    "emergency": Severity.EMERGENCY,
}

# klog/glog (`E0304 10:00:00.123 ...`) and Ruby Logger (`E, [2026-...`) letters.
_LETTERS: dict[str, Severity] = {
    "D": Severity.DEBUG,
    "I": Severity.INFO,
    "W": Severity.WARNING,
    "E": Severity.ERROR,
    "F": Severity.CRITICAL,
}

# Level initials: Gitea's and Forgejo's (modules/log/level.go: Trace, Debug, Info, Warn,
# Error, Critical, Fatal), klog's and Ruby's letters and two more; capnslog's Notice
# (etcd before 3.4) and MongoDB's (before 4.4) F, E, W, I, D are among them.
_INITIALS: dict[str, Severity] = _LETTERS | {
    "T": Severity.DEBUG,
    "C": Severity.CRITICAL,
    "N": Severity.NOTICE,
}

# pino / bunyan numeric levels inside a JSON message.
_PINO: dict[str, Severity] = {
    "10": Severity.DEBUG,
    "20": Severity.DEBUG,
    "30": Severity.INFO,
    "40": Severity.WARNING,
    "50": Severity.ERROR,
    "60": Severity.CRITICAL,
}

# What a fixed wording (a crash marker, the kernel's, systemd's) means.
_MARKERS: dict[str, Severity] = {
    "traceback": Severity.ERROR,
    "exception": Severity.ERROR,
    "kpanic": Severity.EMERGENCY,
    "fault": Severity.ERROR,
    # systemd logs it at LOG_WARNING, but the unit is now failed (`systemctl --failed`):
    # what stopped is a service the operator runs.
    "unit_failed": Severity.ERROR,
    # zed logs every event at daemon.notice; a pool lost the redundancy of a device.
    "zfs_vdev": Severity.CRITICAL,
    # a monitoring system's record of another service's state (Nagios' SERVICE ALERT)
    "monitored": Severity.INFO,
}

_WORDS = "|".join(sorted(_TOKENS, key=len, reverse=True))
_UPPER_WORDS = (
    "ERROR|ERR|WARNING|WARN|FATAL|CRITICAL|CRIT|SEVERE|PANIC|ALERT|EMERGENCY|EMERG"
    "|INFO|NOTICE|DEBUG|TRACE"
)
_KEYS = r"(?:log[._]?level|level|lvl|severity)"
# printk's "[ 1234.567890] " when a reader could not move it to the `uptime` attribute
# (a dmesg file read as raw lines).
_UPTIME = r"(?:\[\s*\d+\.\d+\][ ]?)?"
# systemd unit suffixes (systemd.unit(5)).
_UNIT = r"[^\s:]+\.(?:service|socket|device|mount|automount|swap|target|path|timer|slice|scope)"

# The leftmost match is the logger's level token. Each alternative names the group
# that carries the level.
_ALTERNATIVES = rf"""
    # klog/glog: E0304 10:00:00 ; Ruby Logger: E, [2026-03-04T...
      ^(?P<klog>[IWEF])\d{{4}}[ ]\d\d:\d\d:\d\d
    | ^(?P<ruby>[DIWEF]),[ ]\[\d
    # Nagios' and Icinga 1's event log (nagios.log, or syslog's `nagios:`): the state of a
    # service or host it monitors, not a level of its own ("SERVICE ALERT: web01;HTTP;
    # CRITICAL;HARD;3;Connection refused"): the monitor pages for those, not its log
    | ^(?P<monitored>(?:SERVICE|HOST)[ ](?:FLAPPING[ ]|DOWNTIME[ ])?(?:ALERT|NOTIFICATION)
        | (?:CURRENT|INITIAL)[ ](?:SERVICE|HOST)[ ]STATE):[ ]
    # BIND's log file with print-category and print-severity (`category: severity: `):
    # "general: error: zone example.com/IN: loading from master file db.example failed"
    | ^[a-z][a-z-]{{1,24}}:[ ](?P<bind>critical|error|warning|notice|info):[ ]
    # Icinga 2's "severity/facility: " (lib/base/logger.cpp: debug, notice, information,
    # warning, critical): "critical/ApiListener: Cannot connect to host 'master1'"
    | ^(?P<slashed>debug|notice|information|warning|critical)/[A-Za-z]+:[ ]
    # a level word alone at the very start, any case: "Error: x", "panic: x", "warning: x";
    # also "fatal error: " (Go's runtime dying, runtime/panic.go's throw; Unbound's
    # fatal_exit)
    | ^(?P<start>(?i:{_WORDS}))(?:(?<=[Ff][Aa][Tt][Aa][Ll])[ ](?i:error))?:(?:\s|$)
    # a level word of a capital after a program's own prefix of names, each ending in
    # ": " (Dovecot's lib/failures.c: "imap(alice)<4711><Kx8f>: Error: ...", "auth:
    # Error: ...", "lmtp(12345): Fatal: ...")
    | ^(?:[\w.-]+(?:\([^)\s]*\))?(?:<[^>\s]*>)*:[ ])+(?P<prefixed>Error|Warning|Fatal|Panic):[ ]
    # Monolog's LineFormatter ("[%datetime%] %channel%.%level_name%: %message%": Laravel,
    # Symfony), its stamp taken off by the reader or still there
    | ^(?:\[[^\]\n]{{8,40}}\][ ])?[\w-]+\.
        (?P<monolog>DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY):(?:[ ]|$)
    # PHP's error log (main.c, php_error_cb: "PHP %s:  %s in %s on line %d")
    | \bPHP[ ](?P<php>Fatal[ ]error|Parse[ ]error|Recoverable[ ]fatal[ ]error|Warning):
    # NLog's layout of `longdate|level|logger|message` after its stamp, any case (Sonarr,
    # Radarr: "2026-03-04 10:00:00.1|Error|ImportService|...")
    | ^\|(?P<pipe>(?i:{_WORDS}))\|
    # Gitea's and Forgejo's level initial after the caller (modules/log: `Lshortfuncname`
    # then `Llevelinitial`): "routers/common/db.go:34:InitDBEngine() [E] ORM engine ..."
    | (?<=\(\)[ ])\[(?P<initial>[TDIWECF])\](?=[ ]|$)
    # [ERROR] [error] [core:error] (Apache 2.4), Serilog's [WRN]
    | \[(?:[\w-]+:)?(?P<bracket>(?i:{_WORDS}))\]
    # logfmt level=error, lvl="err"
    | (?<![\w.-])(?i:{_KEYS})=["']?(?P<kv>[A-Za-z]+)\b
    # JSON "level":"error"; pino/bunyan "level":50
    | "(?i:{_KEYS})"\s*:\s*"(?P<json>[A-Za-z]+)"
    | "level"\s*:\s*(?P<pino>[1-6]0)\b
    # bare upper-case word: "... 10:00:00,123 ERROR mod: x", "FATAL:  password ..."; also
    # before a thread's or process's number in brackets (Asterisk's "ERROR[1234] chan_sip.c:").
    # Not GJS's report of a script's exception, "JS ERROR: TypeError: x is null" (GNOME
    # Shell's, Cinnamon's; gjs logs it at GLib's warning level, the words are its wording)
    | (?:^|(?<=[\s\[(|]))(?<!JS[ ])(?P<upper>{_UPPER_WORDS})(?=[\s:\]|)]|\[\d|$)
    # crash markers
    | (?P<traceback>Traceback[ ]\(most[ ]recent[ ]call[ ]last\))
    | (?P<exception>Exception[ ]in[ ]thread[ ]")
    # the kernel's panic (KERN_EMERG), also its closing "---[ end Kernel panic - ..."
    | ^{_UPTIME}(?P<kpanic>(?:---\[[ ]end[ ])?Kernel[ ]panic(?:[ ]-[ ]not[ ]syncing)?:)
    # the kernel's report of a process killed by a fault (TASK_COMM_LEN is 16):
    # "php-fpm[812]: segfault at 0 ip ...", "traps: php[77] general protection fault ip:..."
    | ^{_UPTIME}(?P<fault>.{{1,16}}?\[\d+\]:[ ]segfault[ ]at[ ][0-9a-fA-F]+[ ]
        | traps:[ ].{{1,16}}?\[\d+\][ ]
          (?:general[ ]protection[ ]fault|trap[ ][a-z0-9 ]{{1,24}}?)[ ]ip:)
    # ZFS's event daemon (zed.d/all-syslog.sh: "eid=%d class=%s pool='%s' vdev=%s
    # vdev_state=%s"): a device of a pool faulted, degraded, gone or unavailable. Not
    # OFFLINE (`zpool offline`, the operator's) nor ONLINE.
    | ^(?P<zfs_vdev>eid=\d+[ ]class=statechange[ ][^\n]*?
        [ ]vdev_state=(?:FAULTED|DEGRADED|UNAVAIL|REMOVED)\b)
    # systemd: a unit entered the failed state
    | ^(?P<unit_failed>(?:{_UNIT}:[ ])?Failed[ ]with[ ]result[ ]'[a-z-]+'
        | (?:Unit[ ]{_UNIT}[ ]|{_UNIT}:[ ]Unit[ ])entered[ ]failed[ ]state)
    """

# What an alternative above that is not anchored at the start begins with: `[`, `"`,
# a logfmt key (`level`, `lvl`, `log.level`, `severity`, any case, where a word starts,
# as its alternative requires: the letter is tested first, the one before it after),
# an upper-case level word, `Traceback`, `Exception`. The guard in front of the
# alternatives lets the search pass over every other position at the cost of one test
# instead of trying each alternative there (half the time of a head with "error" in
# prose); it never changes what matches.
_STARTS = r"""[\["ACDEFINPSTW]|(?i:[ls])(?<![\w.-].)"""
_TOKEN_RE = re.compile(rf"(?:^|(?={_STARTS}))(?:{_ALTERNATIVES})", re.VERBOSE)

#: What an alternative not anchored at the start holds, in this case (`PHP `, Gitea's
#: `() [`, a logfmt key's `=`, a JSON key's quote, also Java's `Exception in thread "`,
#: an upper-case level word, a traceback), except the bracketed level, whose word may be
#: of any case (`_BRACKETED`).
#: A head with none of them can hold a level token only where it starts, so the search
#: stops there: a syslog line read raw (`sshd[6382]: error: Could not load host key`),
#: whose "err" lets it past the precheck, costs one match instead of a scan.
_LATER_NEEDS = (
    "=", '"', "PHP ", "() [", "Traceback (",
    "ERR", "WARN", "FATAL", "CRIT", "SEVERE", "PANIC", "ALERT", "EMERG",
    "INFO", "NOTICE", "DEBUG", "TRACE",
)  # fmt: skip
#: A level word of any case right before a `]` (matched at the `]`): the words grouped
#: by length, each group a fixed-width look-behind.
_BRACKETED = re.compile(
    "(?i:"
    + "|".join(
        "(?<=" + "|".join(w for w in _TOKENS if len(w) == n) + ")"
        for n in sorted({len(w) for w in _TOKENS})
    )
    + r")\]"
)


def _may_hold_later(head: str, pos: int) -> bool:
    """Whether a level token could start at `pos` or after in `head` (else none does)."""
    if any(need in head for need in _LATER_NEEDS):
        return True
    at = head.find("]", pos)
    while at != -1:
        if _BRACKETED.match(head, at) is not None:
            return True
        at = head.find("]", at + 1)
    return False


def _level_tokens(head: str) -> Iterator[re.Match[str]]:
    """The matches of `_TOKEN_RE.finditer(head)`, without searching the rest of a head
    that cannot hold another (`_may_hold_later`): the start alone is matched first."""
    first = _TOKEN_RE.match(head)
    pos = 1 if first is None else first.end()
    if first is not None:
        yield first
    if pos < len(head) and _may_hold_later(head, pos):
        yield from _TOKEN_RE.finditer(head, pos)


#: What every token that can raise a line above INFO holds, lower-cased (searched for
#: in one pass: a substring search each cost 1.6 us on a 100-character line).
_RAISING_WORDS = Words(
    (
        "err", "warn", "fatal", "crit", "panic", "severe", "alert", "emerg", "wrn", "ftl",
        "() [", "traceback", "exception in", '"level"', "segfault", "traps:", "with result",
        "failed state", "vdev_state=",
    )
)  # fmt: skip


def _token_severity(head: str) -> Severity | None:
    """Return the severity named by the first explicit level token in `head` (a
    message's first `HEAD_CHARS` characters).

    None when there is none, and also (precheck) when no token could name WARNING
    or worse.
    """
    first = head[:1]
    if first in _LETTERS and (head[1:5].isdigit() or head[1:3] == ", "):
        pass  # klog/Ruby prefix: let the regex confirm it
    else:
        # Every token that can raise INFO contains one of these (lower-cased);
        # most lines contain none and skip the regex.
        if not _RAISING_WORDS.any_in(head.lower()):
            return None
    for match in _level_tokens(head):
        kind = match.lastgroup
        value = match.group(kind) if kind else None
        if kind in ("klog", "ruby"):
            return _LETTERS[value]  # type: ignore[index]
        if kind == "initial":
            return _INITIALS[value]  # type: ignore[index]
        if kind == "pino":
            return _PINO[value]  # type: ignore[index]
        if kind == "php":  # a request's fatal error, not the system's
            return Severity.WARNING if value == "Warning" else Severity.ERROR
        if kind in _MARKERS:
            return _MARKERS[kind]
        severity = _TOKENS.get(value.lower()) if value else None
        if severity is not None:
            return severity
        # `level=verbose`, `"level":"high"`: not a level we know; keep looking.
    return None


#: A failed HTTP request (a 5xx status) in the two shapes web servers log one:
#: Apache's and nginx's access log (`%h %l %u %t "%r" %>s ...`, also sent to syslog:
#: `nginx: 10.0.0.1 - - [...] "GET / HTTP/1.1" 502 157 ...`) and HAProxy's HTTP log
#: (`%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST ...`, always through syslog:
#: `... [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 503 ...`; its
#: TCP log has three timers and no status).
_HTTP_FAILED = re.compile(
    r'"[A-Z]{3,10} [^"\s]+ HTTP/\d(?:\.\d)?" 5\d\d\b'
    r"|\] \S+ \S+/\S+ -?\d+/-?\d+/-?\d+/-?\d+/\+?\d+ 5\d\d\b"
)


def letter_severity(letter: str) -> Severity | None:
    """The level a klog / glog line's letter names (`E` in `E0304 10:00:00.123`)."""
    return _LETTERS.get(letter)


def initial_severity(letter: str) -> Severity | None:
    """The level an initial names: Gitea's, capnslog's (`E | etcdserver:`), MongoDB's."""
    return _INITIALS.get(letter)


def infer_severity(declared: Severity | None, message: str) -> Severity:
    """Return the event's severity: `declared` (INFO when None), raised to the level of
    an explicit WARNING-or-worse level token in the message when that one is worse.
    Never raises."""
    base = Severity.INFO if declared is None else declared
    if base >= Severity.EMERGENCY:
        return base
    head = message[:HEAD_CHARS]
    found = _token_severity(head)
    if (
        found is None
        and " 5" in head
        and ("HTTP/" in head or "] " in head)
        and _HTTP_FAILED.search(head) is not None
    ):
        found = Severity.ERROR  # a web server's log of a request it failed
    if found is not None and found > base:
        return found
    return base
