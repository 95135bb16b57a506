"""Noise rules: drop or downgrade events that drown people, before mining.

Rules are ordered; the first one whose conditions all hold decides. User rules
come first, then (unless `logvigil.ingest.noise.defaults: false`) the built-in ones in
`DEFAULT_RULES`. Every drop or downgrade is counted per rule by the caller, so
nothing is lost silently: `logvigil stats` shows the counts.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, field_validator

from logvigil.core.configbase import Strict
from logvigil.core.events import LogEvent, Severity
from logvigil.core.memo import remembered


class NoiseRuleConfig(Strict):
    """Drop or downgrade matching events before they are mined.

    Every given condition must hold: `service` and `host` are exact names or
    shell-style globs, `match` a regular expression searched in the message.
    """

    name: Annotated[str, Field(min_length=1, max_length=64)]
    action: Literal["drop", "downgrade"] = "drop"
    service: str | None = None
    host: str | None = None
    match: str | None = None
    severity: Literal["debug", "info", "notice", "warning"] = Field(
        default="debug", description="the severity a downgraded event gets"
    )

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class NoiseConfig(Strict):
    defaults: bool = Field(
        default=True,
        description=(
            "apply the built-in rules (sshd and PostgreSQL auth failures, web scanners, "
            "I/O errors of empty floppy and optical drives, network wait-online timeouts) "
            "after `rules`"
        ),
    )
    rules: list[NoiseRuleConfig] = Field(default_factory=list)


_SCANNER_PATHS = (
    r"wp-(?:login|admin|includes|content)|xmlrpc\.php|\.env|\.git/|\.aws/|phpmyadmin|pma/|"
    r"cgi-bin/|boaform|HNAP1|actuator/|vendor/phpunit|solr/|owa/|autodiscover|\.well-known/"
    r"security\.txt|server-status|config\.json|eval-stdin|setup\.cgi|GponForm|"
    r"console/|manager/html|admin(?:istrator)?/|login\.action|phpinfo|\.(?:asp|aspx|jsp|cgi)\b"
)
_SCANNER_AGENTS = (
    r"zgrab|masscan|nmap|sqlmap|nikto|nuclei|l9explore|censysinspect|expanse|"
    r"internetmeasurement|paloaltonetworks|shodan|dirbuster|gobuster|wpscan|python-requests"
)

# What OpenSSH's sshd writes for every connection of an internet scanner or a
# password guesser: failed logins and the pre-authentication chatter around them.
# sshd prefixes lines logged at LOG_ERR/LOG_CRIT with "error: "/"fatal: " (log.c),
# and the wording moved between versions (both forms are listed). Anchored at the
# start of the message, so a real failure of sshd itself ("error: Bind to port 22
# ... failed", "fatal: Cannot bind any address.", "no hostkeys available -- exiting",
# a config error) is never matched.
_SSHD_NOISE = (
    r"^(?:(?:error|fatal): )?(?:"
    # failed logins
    r"Failed (?:password|publickey|none|keyboard-interactive(?:/pam)?|hostbased) |"
    r"Invalid user |input_userauth_request: invalid user |"
    # PAM: "pam_unix(sshd:auth): ..." and, before Linux-PAM 0.99, the ident
    # "sshd(pam_unix)" (read as service sshd) with the bare text
    r"(?:pam_unix\(sshd:auth\): )?(?:authentication failure; |check pass; user unknown)|"
    r"(?:PAM )?\d+ more authentication failures?; |(?:PAM )?service\(sshd\) ignoring max retries|"
    r"PAM: (?:Authentication failure|User not known to the underlying authentication module) |"
    r"maximum authentication attempts exceeded |Disconnecting: Too many authentication failures|"
    # an invalid user's password checked against the fake "NOUSER" entry (auth.c,
    # RHEL and CentOS builds)
    r"Could not get shadow information for NOUSER$|"
    # a flood of unauthenticated connections past MaxStartups (sshd.c, 8.x and later)
    r"beginning MaxStartups throttling$|exited MaxStartups throttling after |"
    r"drop connection #\d+ from \S+ on \S+ past MaxStartups$|"
    r"Disconnecting (?:invalid|authenticating) user |"
    r"Disconnected from (?:invalid|authenticating) user |"
    r"Connection (?:closed|reset) by (?:invalid|authenticating) user |"
    # chatter of every connection before authentication: a missing HostKey file
    # is reported once per connection; scanners that speak no SSH; DNS checks
    r"Could not load host key: |Did not receive identification string|"
    r"Bad protocol version identification|Protocol major versions differ|"
    r"banner exchange: |kex_exchange_identification: |kex_protocol_error|Unable to negotiate|"
    r"Timeout before authentication |"
    r"reverse mapping checking getaddrinfo for .* POSSIBLE BREAK-IN ATTEMPT|"
    r"Address \S+ maps to \S+, but this does not map back to the address|Nasty PTR record |"
    # disconnects of a connection that never authenticated, which sshd tags [preauth]
    r"(?:(?:Connection (?:closed|reset)|Received disconnect|Disconnected) (?:by|from) |"
    r"Read from socket failed: |ssh_dispatch_run_fatal: ).*\[preauth\]"
    r")"
)

# What PostgreSQL writes for every connection of a scanner or password guesser on its
# port (src/backend/libpq/auth.c, utils/init/miscinit.c, postmaster's startup packet):
# the session ends at FATAL, which is not the server failing. PostgreSQL writes two
# blanks after the level (`FATAL:  `, elog.c), after whatever `log_line_prefix` holds,
# so the rule searches for that, in any program's lines (a raw file's are `unknown`).
_POSTGRES_AUTH_NOISE = (
    r"FATAL:  (?:password authentication failed for user \"|"
    r"no pg_hba\.conf entry for host \"|role \"[^\"]*\" does not exist$|"
    r"unsupported frontend protocol )"
)

# nginx's error log for a connection it refuses for the client's own doing, after the
# connection's number (`812#812: *1 `): a TLS handshake that failed on what the client
# sent (ngx_event_openssl.c logs the failures it does not know as a client's at [crit]:
# "SSL_do_handshake() failed (SSL: ... bad key share) while SSL handshaking"), and the
# 4xx answers of ngx_http_request.c and the core, access and index modules (a directory
# without its index file: '"/srv/x/index.html" is not found (2: No such file ...)').
# Each rule's pattern starts with a fixed character (`#` here, `[` for Apache's), which
# the regex engine scans for: a rule is tried on every line, and an alternation of the
# two cost five times as much (3 us a line).
_NGINX_CLIENT_4XX = (
    r"#(?<=\d#)\d+: \*\d+ (?:SSL_\w+\(\) failed \(SSL: .*\) while "
    r"(?:SSL handshaking(?! to upstream)|keepalive|reading client request (?:line|headers))"
    r"|client intended to send too large body"
    r"|client sent (?:invalid|too long|duplicate) |invalid host in request line"
    r"|access forbidden by rule|directory index of \"[^\"]*\" is forbidden"
    r"|\"[^\"]*\" is not found \(2: No such file or directory\))"
)

# Apache httpd's error log for requests it answers 4xx, after the client's address:
# core's 404 "File does not exist: " (AH00128), mod_autoindex's 403 "Directory index
# forbidden by rule: " (2.0, 2.2) and mod_dir's "Cannot serve directory ...: No matching
# DirectoryIndex" (AH01276), mod_authz's 403 "client denied by server configuration: "
# (AH01630), mod_cgi's 404 "script not found or unable to stat: " (AH01264), and
# protocol.c's 400s "Invalid URI in request " (AH00126) and "request failed: error
# reading the headers".
_APACHE_CLIENT_4XX = (
    r"\[client [^\]]+\] (?:AH\d{5}: )?(?:File does not exist: |"
    r"Directory index forbidden by rule: |Cannot serve directory [^:]*: No matching "
    r"DirectoryIndex |client denied by server configuration: |"
    r"script not found or unable to stat: |Invalid URI in request |"
    r"request failed: error reading the headers)"
)

# The kernel's I/O errors on a device that holds no disk of the host's own: a floppy
# drive (`fd0`: a hypervisor's virtual floppy controller with no drive behind it, which
# every probe of the block devices, os-prober, `fdisk -l` or udisks, fails to read), an
# optical drive (`sr0`, the old `scd0`: an empty tray or an ISO image no longer there)
# and a loop device (`loop3`: a file mounted as a disk, as snapd's squashfs images, whose
# file was replaced under it; a fault of the disk holding that file is logged by that
# disk's own device). The wording is the block layer's (block/blk-core.c,
# blk_update_request / print_req_error / since 5.16 blk_print_req_error: "I/O error,
# dev fd0, sector 0"; 2.6 and 3.x end_request), fs/buffer.c's "Buffer I/O error on dev
# sr0, logical block 0, async page read" ("on device fd0" before 3.x), and the SCSI
# sense data of the drive (drivers/scsi/scsi_logging.c: "[sr0] tag#0 Sense Key :
# Medium Error [current]"). The device name is a variable to the miner, so the line,
# not its template, is judged.
_REMOVABLE_MEDIA_IO = (
    r"I/O error,? (?:on )?dev(?:ice)? (?:fd|sr|scd|loop)\d+\b"
    r"|\[(?:sr|scd)\d+\] (?:tag#\d+ )?Sense Key : Medium Error"
)

#: Patterns of whose every match one of these words is a part: a rule with such a
#: pattern searches only a message holding one. Two branches that start with different
#: characters make `re` test each position of a line for either (1.75 us a 200-character
#: kernel line, most of what the built-in rules cost); a word is found at C speed.
_WORDS_OF: dict[str, tuple[str, ...]] = {
    _REMOVABLE_MEDIA_IO: ("I/O error", "Sense Key : Medium Error"),
}

# systemd's record of a network wait-online unit that gave up: systemd-networkd-wait-online
# (120 s by default) and NetworkManager-wait-online (`nm-online -s`, 30 to 60 s) are
# oneshot units that hold back network-online.target until the links are configured, and
# exit 1 when their timeout passes first (a port not cabled, a link still configuring, a
# slow DHCP server): systemd marks them failed, at every boot of such a host, while the
# network itself is run by networkd or NetworkManager and usually works. A network that
# is really down shows itself otherwise (sources unreachable, services' own errors,
# silence). Older systemd wrote `Unit x.service entered failed state.`, 229 to 235
# `x.service: Unit entered failed state.`.
_WAIT_ONLINE_FAILED = (
    r"^(?:Unit )?(?:systemd-networkd-wait-online(?:@[\w:.-]+)?|NetworkManager-wait-online)"
    r"\.service(?:: (?:Failed with result '[a-z-]+'|Unit entered failed state)"
    r"| entered failed state)"
)

#: Built-in rules, applied after the user's own.
DEFAULT_RULES: tuple[NoiseRuleConfig, ...] = (
    # Downgraded, not dropped: each line is still a line the host and its sshd wrote
    # (what silence learns a rhythm from, and what a search for an attacker finds),
    # never an error.
    NoiseRuleConfig(
        name="sshd-auth-failures",
        service="sshd*",
        match=_SSHD_NOISE,
        action="downgrade",
        severity="debug",
    ),
    NoiseRuleConfig(
        name="postgres-auth-failures",
        match=_POSTGRES_AUTH_NOISE,
        action="downgrade",
        severity="debug",
    ),
    NoiseRuleConfig(
        name="web-scanner-4xx",
        # Every branch starts at a `"`, which the regex engine scans for (a branch
        # starting elsewhere made the rule four times as costly, on every line).
        match=(
            r"\"(?:[A-Z]{3,8} [^\"]*(?:" + _SCANNER_PATHS + r")[^\"]*\" 4\d\d |"
            r" 4\d\d .*(?i:" + _SCANNER_AGENTS + r")|"
            # nginx's error log writes one [error] line per probe of a missing static file
            r"(?<=open\(\) \")[^\"]*(?:" + _SCANNER_PATHS + r")[^\"]*\" failed \(2: No such file)"
        ),
    ),
    NoiseRuleConfig(
        # Any other missing file is a client's 404, not a server failure, though nginx
        # logs it at [error]: keep it, but as a notice.
        name="web-missing-file",
        match=r"open\(\) \"[^\"]*\" failed \(2: No such file or directory\)",
        action="downgrade",
        severity="notice",
    ),
    # Apache httpd's and nginx's error logs name the client of each request they refuse;
    # those below are answered 4xx or end in the client's TLS failing (the client's
    # request, not the server, failed), though they are logged at [error] (Apache 2.0
    # and 2.2 all of them, 2.4 most) or, nginx's TLS ones, [crit].
    NoiseRuleConfig(
        name="apache-client-refused",
        match=_APACHE_CLIENT_4XX,
        action="downgrade",
        severity="notice",
    ),
    NoiseRuleConfig(
        name="nginx-client-refused",
        match=_NGINX_CLIENT_4XX,
        action="downgrade",
        severity="notice",
    ),
    # Debug, not notice: an I/O error primitive counts a kernel line from a plain syslog
    # file, which says no level (info), and not one this rule has judged.
    NoiseRuleConfig(
        name="removable-media-io-errors",
        service="kern*",
        match=_REMOVABLE_MEDIA_IO,
        action="downgrade",
        severity="debug",
    ),
    # Debug for the same reason: `unit_failed` counts info or worse.
    NoiseRuleConfig(
        name="network-wait-online-timeouts",
        match=_WAIT_ONLINE_FAILED,
        action="downgrade",
        severity="debug",
    ),
)


class NoiseAction(Enum):
    KEEP = "keep"
    DROP = "drop"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True, slots=True)
class NoiseDecision:
    """What to do with an event. `severity` is set only for DOWNGRADE: the event's
    severity, lowered to the rule's (never raised). No copy of the event is made: most
    lines of a scanned host are downgraded, and the caller needs only the severity."""

    action: NoiseAction
    rule: str | None = None
    severity: Severity | None = None


#: The answer for most events, shared so the hot path allocates nothing.
KEEP = NoiseDecision(NoiseAction.KEEP)


#: Names whose glob answers a rule keeps (then it starts over): bounds the memory a
#: stream of ever new host names takes.
_NAMES_KEPT = 4096


def _glob(pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else re.compile(fnmatch.translate(pattern))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    action: NoiseAction
    service: re.Pattern[str] | None
    host: re.Pattern[str] | None
    match: re.Pattern[str] | None
    severity: Severity
    #: One of these is in every text `match` finds (`_WORDS_OF`); empty: not known.
    words: tuple[str, ...] = ()
    # What `service` and `host` answered for each name seen (`_glob_match`).
    _services: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    _hosts: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_config(cls, rule: NoiseRuleConfig) -> CompiledRule:
        return cls(
            name=rule.name,
            action=NoiseAction(rule.action),
            service=_glob(rule.service),
            host=_glob(rule.host),
            match=None if rule.match is None else re.compile(rule.match),
            severity=Severity.parse(rule.severity),
            words=_WORDS_OF.get(rule.match or "", ()),
        )

    def matches(self, event: LogEvent) -> bool:
        if self.service is not None and not _glob_match(
            self.service, self._services, event.service
        ):
            return False
        if self.host is not None and not _glob_match(self.host, self._hosts, event.host):
            return False
        if self.match is None:
            return True
        message = event.message
        if self.words:
            for word in self.words:  # a loop: a generator's frame costs more than a search
                if word in message:
                    break
            else:
                return False
        return self.match.search(message) is not None


def _glob_match(glob: re.Pattern[str], seen: dict[str, bool], name: str) -> bool:
    """Whether `glob` matches `name`, remembered in `seen`: a log names few services
    and hosts, and most events repeat the one before."""
    known = seen.get(name)  # the usual case, without a call (0.1 us a rule here)
    if known is None:
        known = remembered(seen, name, glob.match, _NAMES_KEPT)
    return known


class NoiseFilter:
    """Applies the ordered rules to events; pure, no I/O, no counting."""

    def __init__(self, rules: Sequence[NoiseRuleConfig]) -> None:
        self.rules = [CompiledRule.from_config(r) for r in rules]
        #: Each rule with its pattern's `search` when the pattern is all it tests (no
        #: service or host glob): called directly, as every line meets every rule.
        self._tests = [
            (
                r,
                r.match.search
                if r.match is not None and r.service is r.host is None and not r.words
                else None,
            )
            for r in self.rules
        ]

    @classmethod
    def from_config(cls, config: NoiseConfig) -> NoiseFilter:
        rules = list(config.rules)
        if config.defaults:
            rules.extend(DEFAULT_RULES)
        return cls(rules)

    def apply(self, event: LogEvent) -> NoiseDecision:
        """KEEP (use the event as it is), DROP, or DOWNGRADE (with the lowered severity)."""
        message = event.message
        for rule, search in self._tests:
            if search is not None:
                if search(message) is None:
                    continue
            elif not rule.matches(event):
                continue
            if rule.action is NoiseAction.DROP:
                return NoiseDecision(NoiseAction.DROP, rule.name)
            return NoiseDecision(
                NoiseAction.DOWNGRADE, rule.name, min(event.severity, rule.severity)
            )
        return KEEP
