"""Noise rules: what the built-in rules drop, and how user rules are ordered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.noise import NoiseAction, NoiseConfig, NoiseFilter, NoiseRuleConfig

T = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
DEFAULTS = NoiseFilter.from_config(NoiseConfig())


def ev(service: str, message: str, sev: Severity = Severity.INFO, host: str = "web-01") -> LogEvent:
    return LogEvent(T, host, service, sev, message)


SSHD_NOISE = [
    "Failed password for invalid user admin from 203.0.113.7 port 51234 ssh2",
    "Failed password for root from 198.51.100.2 port 2222 ssh2",
    "Invalid user oracle from 203.0.113.7 port 40112",
    "Connection closed by invalid user ubuntu 203.0.113.7 port 40112 [preauth]",
    "Connection closed by authenticating user root 198.51.100.2 port 3022 [preauth]",
    "Disconnected from invalid user test 203.0.113.7 port 5050 [preauth]",
    "Received disconnect from 203.0.113.7 port 5050:11: Bye Bye [preauth]",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4",
    "banner exchange: Connection from 203.0.113.7 port 5050: invalid format",
    "kex_exchange_identification: read: Connection reset by peer",
    "error: maximum authentication attempts exceeded for root from 1.2.3.4 port 22 ssh2 [preauth]",
]
SSHD_KEPT = [
    "Accepted publickey for alice from 192.168.1.20 port 52514 ssh2: ED25519 SHA256:abc",
    "Server listening on 0.0.0.0 port 22.",
    "fatal: Cannot bind any address.",
    "error: Bind to port 22 on 0.0.0.0 failed: Address already in use.",
    "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
]
WEB_NOISE = [
    '203.0.113.9 - - [04/Mar/2026:10:00:00 +0000] "GET /wp-login.php HTTP/1.1" 404 153 "-" "Mozilla/5.0"',
    '203.0.113.9 - - [04/Mar/2026:10:00:00 +0000] "GET /.env HTTP/1.1" 403 153 "-" "curl/8"',
    '203.0.113.9 - - "POST /cgi-bin/luci/;stok=/locale HTTP/1.1" 400 0 "-" "-"',
    '203.0.113.9 - - "GET / HTTP/1.1" 404 0 "-" "Mozilla/5.0 zgrab/0.x"',
    '203.0.113.9 - - "GET /robots.txt HTTP/1.1" 404 0 "-" "Expanse, a Palo Alto Networks company"',
]
WEB_KEPT = [
    '192.168.1.5 - - "GET /index.php/apps/files HTTP/1.1" 200 5120 "-" "Mozilla/5.0"',
    '192.168.1.5 - - "GET /wp-login.php HTTP/1.1" 200 5120 "-" "Mozilla/5.0"',  # answered: not a probe
    '192.168.1.5 - - "GET /remote.php/dav HTTP/1.1" 502 0 "-" "Mozilla/5.0"',  # a real failure
    '192.168.1.5 - - "GET /missing.png HTTP/1.1" 404 0 "-" "Mozilla/5.0"',  # a user's 404
    "upstream timed out (110: Connection timed out) while reading response header from upstream",
]


@pytest.mark.parametrize("message", SSHD_NOISE)
def test_sshd_authentication_noise_is_dropped(message: str) -> None:
    decision = DEFAULTS.apply(ev("sshd", message))
    assert decision.action is NoiseAction.DROP
    assert decision.rule == "sshd-auth-failures"


@pytest.mark.parametrize("message", SSHD_KEPT)
def test_sshd_lines_that_matter_are_kept(message: str) -> None:
    assert DEFAULTS.apply(ev("sshd", message)).action is NoiseAction.KEEP


def test_sshd_rule_only_applies_to_sshd() -> None:
    msg = "Failed password for invalid user admin from 203.0.113.7 port 51234 ssh2"
    assert DEFAULTS.apply(ev("myapp", msg)).action is NoiseAction.KEEP


@pytest.mark.parametrize("message", WEB_NOISE)
def test_web_scanner_requests_answered_4xx_are_dropped(message: str) -> None:
    decision = DEFAULTS.apply(ev("nginx", message))
    assert (decision.action, decision.rule) == (NoiseAction.DROP, "web-scanner-4xx")


@pytest.mark.parametrize("message", WEB_KEPT)
def test_real_web_traffic_and_failures_are_kept(message: str) -> None:
    assert DEFAULTS.apply(ev("nginx", message)).action is NoiseAction.KEEP


def test_user_rules_come_before_the_defaults_and_the_first_match_wins() -> None:
    f = NoiseFilter.from_config(
        NoiseConfig(
            rules=[
                NoiseRuleConfig(
                    name="keep-sshd-visible", service="sshd", action="downgrade", severity="notice"
                ),
                NoiseRuleConfig(name="never-reached", service="sshd"),
            ]
        )
    )
    decision = f.apply(ev("sshd", SSHD_NOISE[0], Severity.WARNING))
    assert (decision.action, decision.rule) == (NoiseAction.DOWNGRADE, "keep-sshd-visible")
    assert decision.event.severity is Severity.NOTICE


def test_downgrade_never_raises_a_severity() -> None:
    f = NoiseFilter(
        [NoiseRuleConfig(name="d", match="chatty", action="downgrade", severity="warning")]
    )
    decision = f.apply(ev("app", "chatty debug line", Severity.DEBUG))
    assert decision.event.severity is Severity.DEBUG


def test_host_and_service_globs_must_all_hold() -> None:
    f = NoiseFilter([NoiseRuleConfig(name="lab", host="lab-*", service="test*", match="^probe")])
    assert f.apply(ev("test-runner", "probe 1", host="lab-3")).action is NoiseAction.DROP
    assert f.apply(ev("test-runner", "probe 1", host="prod-3")).action is NoiseAction.KEEP
    assert f.apply(ev("runner", "probe 1", host="lab-3")).action is NoiseAction.KEEP
    assert f.apply(ev("test-runner", "a probe", host="lab-3")).action is NoiseAction.KEEP


def test_defaults_can_be_turned_off() -> None:
    f = NoiseFilter.from_config(NoiseConfig(defaults=False))
    assert f.apply(ev("sshd", SSHD_NOISE[0])).action is NoiseAction.KEEP


def test_hostile_messages_do_not_break_the_rules() -> None:
    for message in ("", "\x00\x01\x02", '"' * 10_000, "GET " * 5_000 + '" 404 '):
        assert DEFAULTS.apply(ev("nginx", message)).action in (NoiseAction.KEEP, NoiseAction.DROP)


def test_nginx_error_lines_for_scanner_probes_are_dropped() -> None:
    line = (
        'open() "/var/www/html/.env" failed (2: No such file or directory), client: 203.0.113.9, '
        'server: _, request: "GET /.env HTTP/1.1", host: "192.168.1.10"'
    )
    decision = DEFAULTS.apply(ev("nginx", line, Severity.ERROR))
    assert (decision.action, decision.rule) == (NoiseAction.DROP, "web-scanner-4xx")


def test_another_missing_file_is_kept_as_a_notice() -> None:
    line = (
        'open() "/var/www/html/favicon.ico" failed (2: No such file or directory), '
        'client: 192.168.1.5, server: _, request: "GET /favicon.ico HTTP/1.1"'
    )
    decision = DEFAULTS.apply(ev("nginx", line, Severity.ERROR))
    assert (decision.action, decision.rule) == (NoiseAction.DOWNGRADE, "web-missing-file")
    assert decision.event.severity is Severity.NOTICE


def test_a_permission_error_is_not_noise() -> None:
    line = 'open() "/var/www/html/index.html" failed (13: Permission denied), client: 192.168.1.5'
    assert DEFAULTS.apply(ev("nginx", line, Severity.ERROR)).action is NoiseAction.KEEP
