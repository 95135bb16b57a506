"""Noise rules: drop or downgrade events that drown people, before mining.

Rules are ordered; the first one whose conditions all hold decides. User rules
come first, then (unless `logvigil.ingest.noise.defaults: false`) the built-in ones in
`DEFAULT_RULES`. Every drop or downgrade is counted per rule by the caller, so
nothing is lost silently: `logvigil stats` shows the counts.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Literal

from pydantic import Field, field_validator

from logvigil.core.configbase import Strict
from logvigil.core.events import LogEvent, Severity


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
        description="apply the built-in rules (sshd auth failures, web scanners) after `rules`",
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

#: Built-in rules, applied after the user's own.
DEFAULT_RULES: tuple[NoiseRuleConfig, ...] = (
    NoiseRuleConfig(
        name="sshd-auth-failures",
        service="sshd*",
        match=(
            r"^(?:Failed (?:password|publickey|none|keyboard-interactive)|Invalid user|"
            r"input_userauth_request: invalid user|pam_unix\(sshd:auth\): "
            r"(?:authentication failure|check pass)|PAM \d+ more authentication failures?|"
            r"error: maximum authentication attempts exceeded|Disconnecting (?:invalid|"
            r"authenticating) user|Disconnected from (?:invalid|authenticating) user|"
            r"Connection (?:closed|reset) by (?:invalid|authenticating) user|"
            r"(?:Connection (?:closed|reset)|Received disconnect|Disconnected) (?:by|from) .*"
            r"\[preauth\]|banner exchange: |kex_exchange_identification: |Unable to negotiate|"
            r"Did not receive identification string|Bad protocol version identification|"
            r"error: kex_protocol_error|ssh_dispatch_run_fatal: .*\[preauth\])"
        ),
    ),
    NoiseRuleConfig(
        name="web-scanner-4xx",
        match=(
            r"\"[A-Z]{3,8} [^\"]*(?:" + _SCANNER_PATHS + r")[^\"]*\" 4\d\d |"
            r"\" 4\d\d .*(?i:" + _SCANNER_AGENTS + r")|"
            # nginx's error log writes one [error] line per probe of a missing static file
            r"open\(\) \"[^\"]*(?:" + _SCANNER_PATHS + r")[^\"]*\" failed \(2: No such file"
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
)


class NoiseAction(Enum):
    KEEP = "keep"
    DROP = "drop"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True, slots=True)
class NoiseDecision:
    """What to do with an event. `event` is set only for DOWNGRADE (the lowered copy)."""

    action: NoiseAction
    rule: str | None = None
    event: LogEvent | None = None


#: The answer for most events, shared so the hot path allocates nothing.
KEEP = NoiseDecision(NoiseAction.KEEP)


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

    @classmethod
    def from_config(cls, rule: NoiseRuleConfig) -> CompiledRule:
        return cls(
            name=rule.name,
            action=NoiseAction(rule.action),
            service=_glob(rule.service),
            host=_glob(rule.host),
            match=None if rule.match is None else re.compile(rule.match),
            severity=Severity.parse(rule.severity),
        )

    def matches(self, event: LogEvent) -> bool:
        if self.service is not None and not self.service.match(event.service):
            return False
        if self.host is not None and not self.host.match(event.host):
            return False
        return self.match is None or self.match.search(event.message) is not None


class NoiseFilter:
    """Applies the ordered rules to events; pure, no I/O, no counting."""

    def __init__(self, rules: Sequence[NoiseRuleConfig]) -> None:
        self.rules = [CompiledRule.from_config(r) for r in rules]

    @classmethod
    def from_config(cls, config: NoiseConfig) -> NoiseFilter:
        rules = list(config.rules)
        if config.defaults:
            rules.extend(DEFAULT_RULES)
        return cls(rules)

    def apply(self, event: LogEvent) -> NoiseDecision:
        """KEEP (use the event as it is), DROP, or DOWNGRADE (with the lowered copy)."""
        for rule in self.rules:
            if not rule.matches(event):
                continue
            if rule.action is NoiseAction.DROP:
                return NoiseDecision(NoiseAction.DROP, rule.name)
            if event.severity > rule.severity:
                event = dataclasses.replace(event, severity=rule.severity)
            return NoiseDecision(NoiseAction.DOWNGRADE, rule.name, event)
        return KEEP
