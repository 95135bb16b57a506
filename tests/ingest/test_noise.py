"""Noise rules: what the built-in rules drop, and how user rules are ordered."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.noise import (
    _REMOVABLE_MEDIA_IO,
    _WORDS_OF,
    DEFAULT_RULES,
    NoiseAction,
    NoiseConfig,
    NoiseFilter,
    NoiseRuleConfig,
)

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
def test_sshd_authentication_noise_is_kept_as_debug_never_as_an_error(message: str) -> None:
    decision = DEFAULTS.apply(ev("sshd", message, Severity.ERROR))
    assert decision.action is NoiseAction.DOWNGRADE
    assert decision.rule == "sshd-auth-failures"
    assert decision.severity is Severity.DEBUG


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
    assert decision.severity is Severity.NOTICE


def test_downgrade_never_raises_a_severity() -> None:
    f = NoiseFilter(
        [NoiseRuleConfig(name="d", match="chatty", action="downgrade", severity="warning")]
    )
    decision = f.apply(ev("app", "chatty debug line", Severity.DEBUG))
    assert decision.severity is Severity.DEBUG


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
    assert decision.severity is Severity.NOTICE


def test_a_directory_without_its_index_file_is_kept_as_a_notice() -> None:
    # ngx_http_index_module: "\"%s\" is not found", with the errno
    line = (
        '2026/03/04 10:00:00 [error] 812#812: *3 "/var/www/html/admin/index.html" is not found '
        '(2: No such file or directory), client: 203.0.113.9, server: _, request: "GET /admin/ '
        'HTTP/1.1", host: "10.0.0.1"'
    )
    decision = DEFAULTS.apply(ev("nginx", line, Severity.ERROR))
    assert (decision.action, decision.rule) == (NoiseAction.DOWNGRADE, "nginx-client-refused")
    assert decision.severity is Severity.NOTICE


# Apache httpd's error log, read as a raw file (service unknown): the per-request lines
# of requests answered 4xx. Loghub's Apache sample (2.0, 2005) for the first; httpd's
# own wording (server/core.c, mod_autoindex, mod_dir, mod_authz_core, mod_cgi,
# server/protocol.c) for the rest.
APACHE_CLIENT_REFUSED = [
    "[error] [client 222.166.160.184] Directory index forbidden by rule: /var/www/html/",
    "[error] [client 192.168.1.5] File does not exist: /var/www/html/favicon.ico",
    "[core:info] [pid 1234] [client 192.168.1.5:50432] AH00128: File does not exist: "
    "/var/www/html/robots.txt",
    "[authz_core:error] [pid 1234:tid 140] [client 203.0.113.9:41234] AH01630: client denied "
    "by server configuration: /var/www/html/.git",
    "[autoindex:error] [pid 1234] [client 203.0.113.9:41234] AH01276: Cannot serve directory "
    "/var/www/html/uploads/: No matching DirectoryIndex (index.html,index.php) found, and "
    "server-generated directory index forbidden by Options directive",
    "[cgi:error] [pid 1234] [client 203.0.113.9:41234] AH01264: script not found or unable "
    "to stat: /usr/lib/cgi-bin/php",
    "[core:info] [pid 1234] [client 203.0.113.9:41234] AH00126: Invalid URI in request "
    "GET /../../../../etc/passwd HTTP/1.1",
    "[error] [client 203.0.113.9] request failed: error reading the headers",
]


# nginx's error log (ngx_event_openssl.c, ngx_http_request.c, the core, access and index
# modules), as a raw file gives it: a client's failed TLS handshake at [crit], and
# requests answered 4xx at [error].
NGINX_CLIENT_REFUSED = [
    "[crit] 812#812: *1 SSL_do_handshake() failed (SSL: error:141CF06C:SSL routines:"
    "tls_parse_ctos_key_share:bad key share) while SSL handshaking, client: 203.0.113.9, "
    "server: 0.0.0.0:443",
    "[crit] 812#812: *3 SSL_read() failed (SSL: error:0A000126:SSL routines::unexpected eof "
    "while reading) while keepalive, client: 203.0.113.9, server: 0.0.0.0:443",
    "[error] 812#812: *7 client intended to send too large body: 10485761 bytes, client: "
    '203.0.113.9, server: _, request: "POST /upload HTTP/1.1"',
    "[info] 812#812: *8 client sent invalid method while reading client request line, "
    'client: 203.0.113.9, server: _, request: "\x16\x03\x01"',
    "[error] 812#812: *8 invalid host in request line, client: 203.0.113.9, server: _",
    "[error] 812#812: *9 access forbidden by rule, client: 203.0.113.9, server: _, request: "
    '"GET /.git/config HTTP/1.1"',
    '[error] 812#812: *10 directory index of "/var/www/html/" is forbidden, client: '
    '203.0.113.9, server: _, request: "GET / HTTP/1.1"',
]


@pytest.mark.parametrize(
    ("line", "rule"),
    [(line, "apache-client-refused") for line in APACHE_CLIENT_REFUSED]
    + [(line, "nginx-client-refused") for line in NGINX_CLIENT_REFUSED],
)
def test_a_web_servers_refusals_of_a_clients_request_are_notices(line: str, rule: str) -> None:
    decision = DEFAULTS.apply(ev("unknown", line, Severity.ERROR))
    assert (decision.action, decision.rule) == (NoiseAction.DOWNGRADE, rule)
    assert decision.severity is Severity.NOTICE


@pytest.mark.parametrize(
    "line",
    [
        # Loghub's Apache sample: mod_jk failing, the server's own trouble
        "[error] mod_jk child workerEnv in error state 6",
        "[error] jk2_init() Can't find child 5619 in scoreboard",
        # a request the server failed (5xx), and a file it may not read
        "[proxy:error] [pid 1234] (111)Connection refused: AH00957: HTTP: attempt to connect "
        "to 127.0.0.1:8080 (127.0.0.1) failed",
        "[core:error] [pid 1234] (13)Permission denied: [client 192.168.1.5:50432] AH00035: "
        "access to /index.html denied (filesystem path '/var/www/html/index.html') because "
        "search permissions are missing on a component of the path",
        # the wording without the client that Apache writes before it
        "[error] File does not exist: /var/www/html/favicon.ico",
        # nginx failing to reach or talk to its upstream, and failing at start
        "[error] 812#812: *5 upstream timed out (110: Connection timed out) while reading "
        "response header from upstream, client: 203.0.113.9",
        "[crit] 812#812: *6 SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::"
        "certificate verify failed) while SSL handshaking to upstream, client: 1.2.3.4",
        "[emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)",
        # rate limiting is the server's policy, not the client's fault: kept
        '[error] 812#812: *11 limiting requests, excess: 10.520 by zone "one", client: 1.2.3.4',
    ],
)
def test_the_web_servers_own_failures_are_kept(line: str) -> None:
    assert DEFAULTS.apply(ev("unknown", line, Severity.ERROR)).action is NoiseAction.KEEP


def test_a_permission_error_is_not_noise() -> None:
    line = 'open() "/var/www/html/index.html" failed (13: Permission denied), client: 192.168.1.5'
    assert DEFAULTS.apply(ev("nginx", line, Severity.ERROR)).action is NoiseAction.KEEP


# ------------------------------------------ sshd's pre-authentication chatter, real lines
# Read with the syslog reader as a backtest reads them (so `sshd(pam_unix)` is sshd and
# rsyslog's "message repeated" is the line it repeats). Real lines of
# serverlog_auth.log / loghub_Linux_full.log, and OpenSSH's wording for the rest.
SSHD_CHATTER = [
    "Mar  6 07:15:08 capstonealzheimer sshd[6382]: error: Could not load host key: "
    "/etc/ssh/ssh_host_ed25519_key",
    "Mar  6 09:55:21 capstonealzheimer sshd[15623]: fatal: Read from socket failed: "
    "Connection reset by peer [preauth]",
    "Mar  6 09:55:48 capstonealzheimer sshd[15678]: Did not receive identification string "
    "from 193.36.35.241",
    "Mar  6 07:16:23 capstonealzheimer sshd[6736]: Received disconnect from 166.62.103.147: "
    "11: Bye Bye [preauth]",
    "Mar  6 07:22:36 capstonealzheimer sshd[7047]: Connection closed by 166.62.103.147 [preauth]",
    "Mar  6 10:03:00 capstonealzheimer sshd[16090]: reverse mapping checking getaddrinfo for "
    "dynamicip-176-215-4-171.pppoe.ekat.ertelecom.ru [176.215.4.171] failed - POSSIBLE "
    "BREAK-IN ATTEMPT!",
    "Mar  8 19:40:40 capstonealzheimer sshd[31979]: Address 84.17.2.152 maps to "
    "www.compumir.ru, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
    "Mar  6 14:20:11 capstonealzheimer sshd[1736]: Disconnecting: Too many authentication "
    "failures for root [preauth]",
    "Mar  6 09:55:21 capstonealzheimer sshd[15623]: PAM service(sshd) ignoring max retries; 5 > 3",
    "Mar  6 09:55:21 capstonealzheimer sshd[15623]: PAM 4 more authentication failures; "
    "logname= uid=0 euid=0 tty=ssh ruser= rhost=222.186.56.75  user=root",
    "Mar  6 07:23:46 capstonealzheimer sshd[7098]: Invalid user git from 166.62.103.147",
    "Mar  6 07:23:46 capstonealzheimer sshd[7098]: input_userauth_request: invalid user git "
    "[preauth]",
    "Mar 12 20:45:29 capstonealzheimer sshd[1353]: Protocol major versions differ for "
    "195.154.52.139: SSH-2.0-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2 vs. SSH-1.5-NmapNSE_1.0",
    "Mar  6 09:55:21 capstonealzheimer sshd[15623]: message repeated 4 times: [ Failed "
    "password for root from 222.186.56.75 port 2007 ssh2]",
    "Jun 10 17:16:34 combo sshd(pam_unix)[3353]: check pass; user unknown",
    "Jun 11 09:45:45 combo sshd(pam_unix)[6472]: authentication failure; logname= uid=0 euid=0 "
    "tty=NODEVssh ruser= rhost=unknown.sagonet.net  user=root",
    "Aug  7 08:58:56 combo sshd(pam_unix)[16455]: 7 more authentication failures; logname= "
    "uid=0 euid=0 tty=NODEVssh ruser= rhost=ned.gcdtech.com  user=root",
    "Aug  7 08:58:56 combo sshd(pam_unix)[16455]: service(sshd) ignoring max retries; 8 > 3",
    # OpenSSH's wording, other versions
    "Mar  4 10:00:00 gw sshd[1]: Bad protocol version identification 'GET / HTTP/1.1' from "
    "203.0.113.7 port 40112",
    "Mar  4 10:00:00 gw sshd[1]: error: maximum authentication attempts exceeded for root "
    "from 203.0.113.7 port 40112 ssh2 [preauth]",
    "Mar  4 10:00:00 gw sshd[1]: Unable to negotiate with 203.0.113.7 port 40112: no matching "
    "key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
    "Mar  4 10:00:00 gw sshd[1]: fatal: Unable to negotiate a key exchange method [preauth]",
    "Mar  4 10:00:00 gw sshd[1]: error: kex_exchange_identification: Connection closed by "
    "remote host",
    "Mar  4 10:00:00 gw sshd[1]: error: PAM: Authentication failure for root from 203.0.113.7",
    "Mar  4 10:00:00 gw sshd-session[1]: Connection reset by 203.0.113.7 port 40112 [preauth]",
    "Mar  4 10:00:00 gw sshd[1]: fatal: Timeout before authentication for 203.0.113.7 port 4",
    # auth.c on RHEL/CentOS, for every invalid user's password
    "Mar  4 10:00:00 gw sshd[1]: error: Could not get shadow information for NOUSER",
    # sshd.c (OpenSSH 8.x+) under a flood of unauthenticated connections
    "Mar  4 10:00:00 gw sshd[1]: error: beginning MaxStartups throttling",
    "Mar  4 10:00:00 gw sshd[1]: drop connection #10 from [203.0.113.7]:40112 on "
    "[192.0.2.1]:22 past MaxStartups",
    "Mar  4 10:00:00 gw sshd[1]: exited MaxStartups throttling after 00:01:07, 21 connections "
    "dropped",
]

# A real failure of sshd, and what a person does: kept, and the failures are errors.
SSHD_FAILURES = [
    ("Mar  4 10:00:00 gw sshd[1]: error: Bind to port 22 on 0.0.0.0 failed: Address already "
     "in use.", Severity.ERROR),
    ("Mar  4 10:00:00 gw sshd[1]: fatal: Cannot bind any address.", Severity.CRITICAL),
    ("Mar  4 10:00:00 gw sshd[1]: fatal: No supported key exchange algorithms [preauth]",
     Severity.CRITICAL),
    ("Mar  4 10:00:00 gw sshd[1]: sshd: no hostkeys available -- exiting.", Severity.INFO),
    ("Mar  4 10:00:00 gw sshd[1]: /etc/ssh/sshd_config line 12: Bad configuration option: "
     "Foo", Severity.INFO),
    ("Mar  4 10:00:00 gw sshd[1]: /etc/ssh/sshd_config: terminating, 1 bad configuration "
     "options", Severity.INFO),
    ("Mar  4 10:00:00 gw sshd[1]: fatal: Read from socket failed: Connection reset by peer",
     Severity.CRITICAL),
    ("Mar  4 10:00:00 gw sshd[1]: error: Could not get shadow information for alice",
     Severity.ERROR),
    ("Mar  6 07:15:09 capstonealzheimer sshd[6382]: Accepted password for root from "
     "73.231.246.27 port 60466 ssh2", Severity.INFO),
    ("Mar  6 07:15:09 capstonealzheimer sshd[6382]: pam_unix(sshd:session): session opened "
     "for user root by (uid=0)", Severity.INFO),
]  # fmt: skip

READ = ReadOptions(source="auth.log", default_time=T)


def syslog_event(line: str) -> LogEvent:
    (item,) = read_events([line.encode()], "syslog", READ)
    assert isinstance(item, LogEvent), item
    return item


@pytest.mark.parametrize("line", SSHD_CHATTER)
def test_sshd_preauthentication_chatter_is_downgraded_and_counted_with_failed_logins(
    line: str,
) -> None:
    decision = DEFAULTS.apply(syslog_event(line))
    assert (decision.action, decision.rule) == (NoiseAction.DOWNGRADE, "sshd-auth-failures")
    assert decision.severity is Severity.DEBUG


@pytest.mark.parametrize(("line", "severity"), SSHD_FAILURES)
def test_a_real_sshd_failure_is_kept_at_its_severity(line: str, severity: Severity) -> None:
    event = syslog_event(line)
    assert DEFAULTS.apply(event).action is NoiseAction.KEEP
    assert event.severity is severity


@pytest.mark.parametrize("line", SSHD_CHATTER[:3])
def test_sshd_wording_from_another_program_is_not_sshd_noise(line: str) -> None:
    event = syslog_event(line)
    assert DEFAULTS.apply(dataclasses.replace(event, service="myapp")).action is NoiseAction.KEEP


def test_a_failed_sshd_unit_is_kept_even_when_attributed_to_sshd() -> None:
    event = syslog_event(
        "Mar  4 10:00:00 gw systemd[1]: ssh.service: Failed with result 'exit-code'."
    )
    assert event.severity is Severity.ERROR
    assert DEFAULTS.apply(dataclasses.replace(event, service="sshd")).action is NoiseAction.KEEP


@pytest.mark.parametrize(
    ("service", "message", "rule"),
    [
        *(
            ("kernel", m, "removable-media-io-errors")
            for m in (
                "[  812.120337] blk_update_request: I/O error, dev fd0, sector 0",
                "Buffer I/O error on dev fd0, logical block 0, async page read",
                "print_req_error: I/O error, dev fd0, sector 0",
                "I/O error, dev sr0, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2",
                "end_request: I/O error, dev fd0, sector 0",
                "Buffer I/O error on device scd0, logical block 0",
                "sr 1:0:0:0: [sr0] tag#0 Sense Key : Medium Error [current]",
                "blk_update_request: I/O error, dev loop12, sector 0",
            )
        ),
        *(
            ("systemd", m, "network-wait-online-timeouts")
            for m in (
                # openbmc/phosphor-networkd issue 39; NixOS/nixpkgs issue 180175
                "systemd-networkd-wait-online.service: Failed with result 'exit-code'.",
                "NetworkManager-wait-online.service: Failed with result 'exit-code'.",
                "systemd-networkd-wait-online@eth0.service: Failed with result 'timeout'.",
                "systemd-networkd-wait-online.service: Unit entered failed state.",  # 229
                "Unit NetworkManager-wait-online.service entered failed state.",  # before 229
            )
        ),
    ],
)
def test_lines_a_built_in_rule_lowers_to_debug(service: str, message: str, rule: str) -> None:
    """I/O errors of a device holding no disk; a network wait-online unit that gave up."""
    d = DEFAULTS.apply(ev(service, message, Severity.ERROR))
    assert (d.action, d.rule, d.severity) == (NoiseAction.DOWNGRADE, rule, Severity.DEBUG)


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("kernel", "blk_update_request: I/O error, dev sda, sector 123456"),
        ("kernel", "Buffer I/O error on dev sdb1, logical block 0, lost async page write"),
        ("kernel", "I/O error, dev fd01x, sector 0"),  # not a floppy device's name
        ("kernel", "sd 2:0:0:0: [sda] tag#0 Sense Key : Medium Error [current]"),
        ("kernel", "Floppy drive(s): fd0 is 1.44M"),  # a floppy, no error
        ("backup", "write failed: I/O error, dev fd0 unreadable"),  # not the kernel's line
    ],
)
def test_io_errors_of_disks_and_other_programs_are_not_removable_media(
    service: str, message: str
) -> None:
    assert DEFAULTS.apply(ev(service, message)).rule != "removable-media-io-errors"


@pytest.mark.parametrize(
    "message",
    [
        "cyrus-imapd.service: Failed with result 'exit-code'.",  # plemma_syslog.log
        "systemd-networkd.service: Failed with result 'exit-code'.",  # the network's daemon
        "NetworkManager.service: Failed with result 'core-dump'.",
        "my-systemd-networkd-wait-online.service: Failed with result 'exit-code'.",
    ],
)
def test_other_units_failing_are_not_wait_online_timeouts(message: str) -> None:
    assert DEFAULTS.apply(ev("systemd", message, Severity.ERROR)).rule is None


def test_the_words_a_built_in_pattern_needs_belong_to_a_built_in_rule() -> None:
    """A rule whose pattern is in `_WORDS_OF` searches only messages with one of its
    words (the lines above match through that gate): each entry is a built-in rule's."""
    patterns = {rule.match for rule in DEFAULT_RULES}
    assert set(_WORDS_OF) <= patterns
    compiled = {rule.name: rule for rule in DEFAULTS.rules}
    assert compiled["removable-media-io-errors"].words == _WORDS_OF[_REMOVABLE_MEDIA_IO]
