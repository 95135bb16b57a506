"""Severity inference: explicit level tokens raise the declared level; prose does not."""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.severity import _RAISING_WORDS, HEAD_CHARS, infer_severity

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "loghub_2k"

E, W, C = Severity.ERROR, Severity.WARNING, Severity.CRITICAL
READ = ReadOptions(source="test.log", default_time=datetime(2026, 3, 5, tzinfo=UTC))

# (message, severity named by its explicit token)
RAISING = [
    ('level=error msg="upstream timed out"', E),
    ('ts=2026-03-04T10:00:00Z caller=main.go:88 level="error" msg="x"', E),
    ("time=2026-03-04T10:00:00Z lvl=err msg=x", E),
    ('{"level":"error","ts":1709546400.1,"msg":"dial tcp 10.0.0.5:5432: connect refused"}', E),
    ('{"time":"2026-03-04T10:00:00Z", "severity": "WARNING", "message":"slow"}', W),
    ('{"name":"api","hostname":"web-01","pid":7,"level":50,"msg":"boom"}', E),
    ('{"level":40,"msg":"deprecated"}', W),
    ("[ERROR] could not open /var/lib/app/state.db", E),
    ("[ERR] 2026/03/04 10:00:00 agent: failed to sync", E),
    ('ERROR: relation "users" does not exist', E),
    ("2026-01-01 10:00:00,123 ERROR app.worker: job 8812 failed", E),
    ("2026-03-04 10:00:00.123 ERROR [main] c.e.Foo - request failed", E),
    ("10:00:00.123 [http-nio-8080-exec-1] ERROR com.example.Api - boom", E),
    ("2026-03-04T10:00:00.123Z ERROR 1234 --- [main] o.s.b.SpringApplication : failed", E),
    ("E1121 10:00:00.123456   12345 reflector.go:138] failed to list *v1.Pod", E),
    ("W0304 10:00:00.000001       1 warnings.go:70] v1 Endpoints is deprecated", W),
    ("F0304 10:00:00.000001       1 main.go:12] cannot start", C),
    ("E, [2026-03-04T10:00:00.123456 #1234] ERROR -- : boom", E),
    ("2026-03-04 10:00:00.123 UTC [1234] FATAL:  password authentication failed", C),
    ("2026-03-04 10:00:00.123 UTC [1234] PANIC:  could not write to file", C),
    ("CRITICAL:root:disk is full", C),
    ("panic: runtime error: invalid memory address or nil pointer dereference", C),
    # Go's runtime dying (runtime/panic.go, throw), Unbound's fatal_exit
    ("fatal error: concurrent map writes", C),
    ("fatal error: all goroutines are asleep - deadlock!", C),
    ("fatal error: could not open ports", C),
    ("critical/ApiListener: Cannot connect to host 'master1' on port '5665'", C),
    # BIND's category and severity; Asterisk's level before its thread
    ("general: error: zone example.com/IN: loading from master file db.example failed", E),
    ("resolver: warning: checkhints: unable to get root NS rrset from cache: not found", W),
    ("ERROR[1234] chan_sip.c: Failed to authenticate device 100<sip:100@1.2.3.4>", E),
    ("WARNING[5678][C-00000002] pbx.c: Channel 'SIP/100-00000001' sent to invalid extension", W),
    ("warning/PluginNotificationTask: Notification command for user 'x' failed", W),
    ("Traceback (most recent call last):", E),
    ('Exception in thread "main" java.lang.NullPointerException', E),
    ("SEVERE: Servlet.service() for servlet [dispatcher] threw exception", E),
    ("WARN  [main] o.h.e.j.s.SqlExceptionHelper - SQL Warning Code: 0", W),
    ("WARNING: the 'foo' option is deprecated", W),
    ("[warn] 1234#0: *5 an upstream response is buffered to a temporary file", W),
    ("2026/03/04 10:00:00 [error] 1234#0: *1 connect() failed (111: Connection refused)", E),
    ("[Wed Mar 04 10:00:00.123 2026] [proxy:error] [pid 99] AH00940: disabled", E),
    ("[Wed Mar 04 10:00:00 2026] [crit] (28)No space left on device", C),
    ("Error: ENOENT: no such file or directory, open '/etc/app.json'", E),
    ("error: failed to push some refs to 'origin'", E),
    ("warning: unable to access '/root/.config/git/attributes'", W),
    ("fatal: not a git repository (or any of the parent directories)", C),
    ("<3>kernel: x level=crit", C),
    ("level=verbose level=ERROR second key wins when the first is not a level", E),
    # PHP's error log (main.c): a request's fatal error, a script that does not parse
    (
        "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate "
        "20480 bytes) in /var/www/html/wp-includes/class-wpdb.php on line 2056",
        E,
    ),
    ("PHP Parse error:  syntax error, unexpected end of file in /var/www/a.php on line 9", E),
    ("PHP Warning:  Undefined variable $x in /var/www/html/a.php on line 3", W),
    # Serilog's `{Level:u3}` (Jellyfin's log, after its stamp)
    ("[WRN] [12] Jellyfin.Server.Implementations: slow query 512 ms", W),
    ("[FTL] [1] Main: Error while starting server.", C),
    ("[ERR] [23] Emby.Server.Implementations.ApplicationHost: Error creating", E),
    # NLog's `longdate|level|logger|message`, the level capitalised (Sonarr, Radarr)
    ("|Error|DownloadedEpisodesImportService|Import failed, path does not exist", E),
    ("|Warn|RssSyncService|Indexer is failing", W),
    ("|Fatal|ConsoleApp|EPIC FAIL!", C),
    # Gitea's and Forgejo's level initial after the caller (after their `2023/01/02
    # 10:00:00` stamp), the file path cut with `...` as Gitea writes it
    (
        "routers/common/db.go:34:InitDBEngine() [E] ORM engine initialization attempt #1/10 "
        "failed. Error: dial tcp 127.0.0.1:3306: connect: connection refused",
        E,
    ),
    ("...s/graceful/manager.go:145:doHammerTime() [W] Setting Hammer condition", W),
    ("cmd/web.go:102:runWeb() [F] Failed to start server: listen tcp :3000: bind", C),
    # Monolog's LineFormatter (Laravel's storage/logs/laravel.log, Symfony): with its
    # stamp (a container's output, the journal) and as the raw reader leaves it
    (
        "[2020-08-20 16:53:25] production.ERROR: SQLSTATE[HY000] [2002] Connection refused",
        E,
    ),
    ("production.ERROR: SQLSTATE[HY000] [2002] Connection refused", E),
    ("[2024-01-15 10:30:16] production.WARNING: Queue worker timeout after 60 seconds", W),
]

# Prose, counts and names that merely contain a level word.
NOT_RAISING = [
    "0 errors",
    "no errors found",
    "Build finished: 0 errors, 0 warnings",
    "error_count=0",
    "errors: 0",
    "ErrorDocument 404 /missing.html",
    "mount option on-error=remount-ro applied",
    "redirecting stderr to /var/log/app.err.log",
    "request failed with error 5",
    "an error occurred while reading the header",
    "battery level: critical",
    "set log level=errorsonly",
    "ERROR_COUNT=3 WARN_THRESHOLD=5",
    "NO_ERROR returned by driver",
    "[errors] section parsed",
    "INFO retrying after ERROR from upstream",
    '2026-03-04 10:00:00,123 INFO app: received "ERROR" frame',
    'level=info msg="upstream said level=error"',
    "I0304 10:00:00.000001       1 main.go:12] ERROR budget is fine",
    "Started Session 12 of User deploy.",
    "GET /api/errors HTTP/1.1 200",
    "terror, werror and warning_flags compiled",
    "Exception handler installed",
    "Eleven 10:00:00 is not klog",
    "PHP Notice:  Undefined index: q in /var/www/html/a.php on line 3",
    "PHP Deprecated:  Function create_function() is deprecated in /var/www/a.php on line 2",
    "the PHP Fatal errors: 0",
    "fatal errors: 0",
    # Nagios' and Icinga 1's record of a monitored service's state
    "SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;Connection refused",
    "HOST ALERT: db01;DOWN;SOFT;1;PING CRITICAL - Packet loss = 100%",
    "SERVICE NOTIFICATION: nagiosadmin;web01;HTTP;CRITICAL;notify-service-by-email;refused",
    "CURRENT SERVICE STATE: web01;HTTP;CRITICAL;HARD;3;Connection refused",
    "information/ConfigItem: Committing config item(s).",
    "security: info: client @0x7f 1.2.3.4#5353 (example.com): query (cache) denied",
    "two words: error: a prefix of two words is no category",
    "ERRORS[1234] not a level word",
    "ERROR[x] no number in the bracket",
    "a fatal error: in prose",
    "info error: the first word decides",
    "[INF] [1] Main: Jellyfin version: 10.8.0, ERROR in prose",  # Serilog's INFO decides
    "|Info|RssSyncService|ERROR in prose",  # NLog's Info decides
    "|Errors|x|y",
    "[WRNG] not Serilog's",
    "x |Error| not at the start",
    "...dules/setting/log.go:301:newLogService() [I] Gitea v1.18.0, an ERROR in prose",
    "routers/web.go:12:Routes() [X] not a level initial",
    "foo [E] no caller before the initial",
    "",
    # Monolog's INFO decides; a word that only begins like a level
    "[2026-08-09 10:13:11] production.INFO: Reservation expired, ERROR budget fine",
    "see app.ERRORS: none",
]


@pytest.mark.parametrize(("message", "expected"), RAISING)
def test_an_explicit_level_token_raises_info(message: str, expected: Severity) -> None:
    assert infer_severity(Severity.INFO, message) is expected


@pytest.mark.parametrize(("message", "expected"), RAISING)
def test_an_explicit_level_token_decides_when_nothing_is_declared(
    message: str, expected: Severity
) -> None:
    assert infer_severity(None, message) is expected


@pytest.mark.parametrize("message", NOT_RAISING)
def test_prose_and_counts_do_not_raise_the_severity(message: str) -> None:
    assert infer_severity(Severity.INFO, message) is Severity.INFO
    assert infer_severity(None, message) is Severity.INFO


@pytest.mark.parametrize(("message", "_"), RAISING)
def test_a_token_never_lowers_the_declared_severity(message: str, _: Severity) -> None:
    assert infer_severity(Severity.EMERGENCY, message) is Severity.EMERGENCY
    assert infer_severity(Severity.ALERT, message) >= Severity.ALERT


@pytest.mark.parametrize(
    ("declared", "message", "expected"),
    [
        (Severity.ERROR, "WARN disk at 85%", Severity.ERROR),
        (Severity.WARNING, "[ERROR] disk full", Severity.ERROR),
        (Severity.DEBUG, "level=info msg=x", Severity.DEBUG),  # only WARNING+ tokens raise
        (Severity.DEBUG, "plain text", Severity.DEBUG),
        (Severity.NOTICE, "DEBUG cache hit", Severity.NOTICE),
        (None, "plain text", Severity.INFO),
    ],
)
def test_the_declared_severity_is_kept_unless_a_token_is_worse(
    declared: Severity | None, message: str, expected: Severity
) -> None:
    assert infer_severity(declared, message) is expected


def test_a_token_beyond_the_head_of_a_long_message_is_ignored() -> None:
    message = "x" * HEAD_CHARS + " ERROR: too late"
    assert infer_severity(None, message) is Severity.INFO


def test_hostile_messages_do_not_crash_or_take_long() -> None:
    hostile = [
        "[" * 10_000,
        "level=" * 10_000,
        '"level":' * 10_000,
        "ERROR" * 10_000,
        "\x00\x01\x1b[31mERROR\x1b[0m",
        "\ud800 ERROR: lone surrogate",
        "E" + "1" * 10_000,
    ]
    start = time.perf_counter()
    for message in hostile:
        assert isinstance(infer_severity(None, message), Severity)
    assert time.perf_counter() - start < 0.5


def test_ordinary_lines_are_inferred_fast() -> None:
    lines = [
        "Accepted publickey for deploy from 10.0.4.17 port 51234 ssh2",
        "pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1000)",
        '10.0.0.5 - - [04/Mar/2026:10:00:00 +0000] "GET /status HTTP/1.1" 200 612',
        "2026-03-04 10:00:00,123 ERROR worker: job 8812 failed: connection refused",
    ] * 5_000
    start = time.perf_counter()
    for line in lines:
        infer_severity(Severity.INFO, line)
    rate = len(lines) / (time.perf_counter() - start)
    assert rate > 100_000  # ~1M/s on a laptop; generous for loaded CI machines


@pytest.mark.parametrize("dataset", ["Apache", "HDFS", "Hadoop", "OpenStack", "Spark", "Zookeeper"])
def test_real_log_headers_give_the_labelled_level_on_every_line(dataset: str) -> None:
    """Loghub-2k lines carry their level in each system's own header; the
    corrected CSV labels it. `notice` is not raised above INFO."""
    folder = LOGHUB / dataset
    if not folder.is_dir():
        pytest.skip(f"{folder} not available")
    lines = (folder / f"{dataset}_2k.log").read_text(errors="replace").splitlines()
    with open(folder / f"{dataset}_2k.log_structured_corrected.csv", newline="") as f:
        levels = [row["Level"] for row in csv.DictReader(f)]
    expected = {"notice": Severity.INFO, "INFO": Severity.INFO, "WARN": W, "WARNING": W,
                "error": E, "ERROR": E, "FATAL": C}  # fmt: skip
    wrong = [
        (level, line)
        for line, level in zip(lines, levels, strict=True)
        if infer_severity(None, line) is not expected[level]
    ]
    assert wrong == []


# ------------------------------------------------- fixed wordings of plain syslog files
# Plain syslog files (RFC 3164 without <PRI>) carry no level: these lines are read
# with the syslog reader, as a backtest reads them. Real lines from the files in
# ../shared/data/real_logs, and the kernel's and systemd's well-known wording.
PLAIN_SYSLOG = [
    # logrotate's cron.daily script: logger -t logrotate "ALERT exited abnormally with [$?]"
    ("Jun 10 04:03:02 combo logrotate: ALERT exited abnormally with [1]", Severity.ALERT),
    # OpenSSH's log.c prefixes error()/fatal() lines on syslog with "error: "/"fatal: "
    (
        "Mar  6 07:15:08 capstonealzheimer sshd[6382]: error: Could not load host key: "
        "/etc/ssh/ssh_host_ed25519_key",
        E,
    ),
    (
        "Mar  6 09:55:21 capstonealzheimer sshd[15623]: fatal: Read from socket failed: "
        "Connection reset by peer [preauth]",
        C,
    ),
    ("Mar  4 10:00:00 db-01 sshd[812]: fatal: Cannot bind any address.", C),
    # systemd: the unit is failed (systemd >= 230; and the older wording)
    ("May 22 22:53:42 vultr systemd[1]: cyrus-imapd.service: Failed with result 'exit-code'.", E),
    ("Mar  4 10:00:00 db-01 systemd[1]: Unit nginx.service entered failed state.", E),
    ("Mar  4 10:00:00 db-01 systemd[1]: nginx.service: Unit entered failed state.", E),
    ("Mar  4 10:00:00 db-01 systemd[1]: user@1000.service: Failed with result 'timeout'.", E),
    # the kernel: a panic (KERN_EMERG) and a process killed by a fault
    (
        "Mar  4 10:00:00 db-01 kernel: [ 8123.456789] Kernel panic - not syncing: "
        "Fatal exception in interrupt",
        Severity.EMERGENCY,
    ),
    (
        "Mar  4 10:00:00 db-01 kernel: [ 8123.456790] ---[ end Kernel panic - not syncing: "
        "Fatal exception in interrupt ]---",
        Severity.EMERGENCY,
    ),
    (
        "Mar  4 10:00:00 web-01 kernel: [123456.789012] php-fpm7.4[2345]: segfault at 0 ip "
        "00007f8a1c2b3d4e sp 00007ffd2e3f4a50 error 4 in libc-2.31.so[7f8a1c200000+178000]",
        E,
    ),
    (
        "Mar  4 10:00:00 pc kernel: [ 5012.000001] Web Content[3199]: segfault at 8 ip "
        "00007f3c sp 00007ffc error 4 in libxul.so[7f3c+5000]",
        E,
    ),
    (
        "Mar  4 10:00:00 web-01 kernel: [ 77.000001] traps: php[77] general protection fault "
        "ip:7f2b sp:7ffd error:0 in libc-2.31.so[7f2b+178000]",
        E,
    ),
    (
        "Mar  4 10:00:00 web-01 kernel: [ 77.000001] traps: a.out[9] trap divide error "
        "ip:400536 sp:7ffd error:0 in a.out[400000+1000]",
        E,
    ),
    (
        "Jan  7 17:21:25 elemoine kernel: [    4.252903] WARNING: CPU: 7 PID: 1116 at "
        "/build/linux-lts-vivid-whAhIw/linux-lts-vivid-3.19.0/drivers/gpu/drm/i915/"
        "intel_display.c:11379 intel_crtc_set_config+0xa6d/0xf60 [i915]()",
        W,
    ),
    # ZFS's event daemon (zed.d/all-syslog.sh): a pool's device gone, as posted from a
    # machine whose raidz3 lost its disks (ZFS 2.1.5, Ubuntu 22.04) ...
    (
        "Apr 10 15:10:16 server zed[2509]: eid=15 class=statechange pool='Pool' vdev=sdd1 "
        "vdev_state=UNAVAIL",
        C,
    ),
    # ... and written as all-syslog.sh does with ZED_SYSLOG_DISPLAY_GUIDS=1
    (
        "Sep 23 10:44:19 nas01 zed[1502]: eid=230 class=statechange "
        "pool_guid=0x8a1f5e683ff3ff28 vdev_guid=0x3c9ec3d5b2d3e46f vdev_state=FAULTED",
        C,
    ),
    # Dovecot (lib/failures.c) writes its level after its process's prefix: a user's
    # mail storage it cannot find, an LDAP bind refused, a master that cannot listen
    # (from posts asking for help)
    (
        "Apr  5 14:21:10 box420 dovecot: imap(cid): Error: user cid: Initialization failed: "
        "mail_location not set and autodetection failed: Mail storage autodetection failed "
        "with home=/home/cid",
        E,
    ),
    (
        'Dec 27 22:35:24 server1 dovecot: auth: Error: LDAP: binding failed (dn cn="Directory '
        'Manager,dc=example,dc=com"): No such object',
        E,
    ),
    (
        "Apr  8 14:02:34 development-mail-server dovecot: master: Fatal: Failed to start listeners",
        C,
    ),
    # HAProxy's HTTP log: no server left in the backend (a blog's Debian 11 test), ...
    (
        "Feb 19 04:13:36 debian11 haproxy[4436]: 10.2.0.1:54090 [19/Feb/2023:04:13:36.655] "
        'web_proxy web_server02/<NOSRV> 0/-1/-1/-1/0 503 221 - - SC-- 1/1/0/0/0 0/0 "GET /app2 '
        'HTTP/1.1"',
        E,
    ),
    # ... and nginx's access log sent to syslog (`access_log syslog:server=unix:/dev/log`):
    # its upstream stopped (the line from a write-up reproducing a 502)
    (
        'Jul 30 02:46:40 web nginx: 127.0.0.1 - - [30/Jul/2020:02:46:40 +0000] "GET / HTTP/1.1" '
        '502 157 "-" "curl/7.58.0" "-"',
        E,
    ),
]

# Near misses: real benign lines, and prose that only resembles the wordings above.
PLAIN_SYSLOG_INFO = [
    "May 22 22:53:41 vultr ntpd[456]: kernel reports TIME_ERROR: 0x41: Clock Unsynchronized",
    "Jan  4 18:44:31 elemoine kernel: [    2.619797] i915 0000:00:02.0: registered panic notifier",
    "Jan  4 18:44:31 elemoine kernel: [    1.383372] Error parsing PCC subspaces from PCCT",
    "Jan  4 08:25:20 elemoine kernel: [39495.454966] usb 1-10: device not accepting address 10, "
    "error -71",
    "May 22 22:53:42 vultr systemd[1]: cyrus-imapd.service: Main process exited, code=exited, "
    "status=78/CONFIG",
    "Mar  4 10:00:00 db-01 monit[9]: 2 ALERTS sent, ALERT_LEVEL=3",
    "Mar  4 10:00:00 db-01 app[9]: the last job Failed with result 'exit-code' yesterday",
    "Mar  4 10:00:00 db-01 app[9]: check failed with result 3",
    "Mar  4 10:00:00 db-01 kernel: [    0.100000] Kernel panic notifier registered",
    "Mar  4 10:00:00 db-01 app[9]: a segfault at 0x0 was reported by the test suite",
    "Mar  4 10:00:00 db-01 app[9]: SegFault handler installed; libSegFault.so loaded",
    "Mar  4 10:00:00 db-01 app[9]: nginx.service entered failed state earlier, see above",
    # zed: a device back, one the operator took offline (`zpool offline`), the pool's
    # own event (its state is only in the statechange lines beside it), prose
    "Apr 10 15:12:01 server zed[2601]: eid=19 class=statechange pool='Pool' vdev=sdd1 "
    "vdev_state=ONLINE",
    "Apr 10 15:12:01 server zed[2602]: eid=20 class=statechange pool='Pool' vdev=sdd1 "
    "vdev_state=OFFLINE",
    "Apr 10 15:10:16 server zed[2464]: eid=12 class=vdev.no_replicas pool='Pool'",
    "Apr 10 15:10:16 server backup[77]: checked vdev_state=FAULTED handling in the test pool",
    # Dovecot's routine lines; an error quoted in prose after a phrase, not a prefix
    "Jun 24 13:43:55 vmi2599867 dovecot: imap(soporte@connectia.info)<1349198>"
    "<mNbitVU4XL3RkTFE>: Disconnected: Logged out in=50 out=563 deleted=0 expunged=0",
    "Oct  3 12:01:10 mail dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 "
    "secs): user=<bob>, method=PLAIN, rip=10.0.0.5",
    "Mar  4 10:00:00 web-01 app[9]: Request failed: Error: connection refused (retrying)",
    # requests served (HAProxy's documentation's example; a 5 in the path), HAProxy's TCP
    # log (three timers, no status), a level token first (OpenStack's nova-api)
    "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
    'http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET '
    '/index.html HTTP/1.1"',
    'Jul 30 02:46:40 web nginx: 127.0.0.1 - - [30/Jul/2020:02:46:40 +0000] "GET /500 HTTP/1.1" '
    '200 5 "-" "curl/7.58.0" "-"',
    "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] "
    "fe-tcp be/srv 0/0/5007 212 -- 1/1/1/1/0 0/0",
    "May 16 00:00:00 nova nova-api[25746]: INFO nova.osapi_compute.wsgi.server [req-38101a0b "
    '- - -] 10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 500 len: 1893 time: 0.25',
    # GJS reports a GNOME Shell script's exception at GLib's warning level, in these words
    "Mar  4 10:00:01 laptop gnome-shell[1834]: JS ERROR: TypeError: this._windowActor is null",
    "Mar  4 10:00:01 laptop cinnamon[2011]: JS ERROR: Exception in callback for signal: "
    "notify::focus-window: TypeError: actor is undefined",
]


def _syslog_severity(line: str) -> Severity:
    (item,) = read_events([line.encode()], "syslog", READ)
    assert isinstance(item, LogEvent), item
    return item.severity


@pytest.mark.parametrize(("line", "expected"), PLAIN_SYSLOG)
def test_plain_syslog_lines_get_the_severity_their_wording_states(
    line: str, expected: Severity
) -> None:
    assert _syslog_severity(line) is expected


@pytest.mark.parametrize("line", PLAIN_SYSLOG_INFO)
def test_plain_syslog_lines_that_only_resemble_those_wordings_stay_info(line: str) -> None:
    assert _syslog_severity(line) is Severity.INFO


def test_alert_in_capitals_is_recognised_as_the_docs_promise() -> None:
    assert infer_severity(None, "ALERT exited abnormally with [1]") is Severity.ALERT
    assert infer_severity(None, "EMERGENCY: power lost, shutting down") is Severity.EMERGENCY
    assert infer_severity(None, "Alert: raid degraded") is Severity.ALERT


def test_a_dmesg_line_keeps_its_wording_when_the_stamp_is_still_there() -> None:
    """Read as raw lines (service unknown), a dmesg file keeps printk's stamp."""
    assert infer_severity(None, "[  12.3] Kernel panic - not syncing: x") is Severity.EMERGENCY
    assert infer_severity(None, "[  12.3] sh[1]: segfault at 0 ip 1 sp 2 error 4") is E


# Lines as their programs write them, each holding exactly one word of the precheck that
# lets a line's head reach the level pattern: dropping that word from the precheck
# lowers the line to INFO. (A kernel `segfault` or `traps:` line always holds `error`
# too, so those two words have no line of their own here.)
ONE_PRECHECK_WORD = [
    ("err", "[error] mod_jk child workerEnv in error state 6"),  # Apache 2.2 error log
    ("warn", "WARN  [main] kafka.server.KafkaConfig - Property x is not valid"),  # log4j
    ("fatal", "FATAL:  the database system is starting up"),  # PostgreSQL
    ("panic", "PANIC:  could not locate a valid checkpoint record"),  # PostgreSQL
    ("severe", "SEVERE: Servlet.service() for servlet [jsp] threw exception"),  # JUL
    ("alert", "ALERT exited abnormally with [1]"),  # logrotate's cron job, loghub Linux
    ("emerg", "[emerg] 812#812: bind() to 0.0.0.0:80 failed (98: Address already in use)"),
    ("crit", "[crit] 812#812: *1 connect() to unix:/run/php/php8.2-fpm.sock failed"),  # nginx
    ("wrn", "[WRN] [12] Main: The server certificate could not be loaded"),  # Serilog
    ("ftl", "[FTL] [1] Main: Unhandled exception during startup"),  # Serilog
    ("() [", "routers/init.go:62:GlobalInit() [E] Failed to initialize ORM engine"),  # Gitea
    ("traceback", "Traceback (most recent call last):"),  # Python
    ("exception in", 'Exception in thread "main" java.lang.NullPointerException'),  # Java
    ('"level"', '{"level":50,"time":1772618400000,"pid":1,"msg":"request failed"}'),  # pino
    ("with result", "nginx.service: Failed with result 'exit-code'."),  # systemd 230+
    ("failed state", "Unit nginx.service entered failed state."),  # systemd before 229
]


@pytest.mark.parametrize(("word", "line"), ONE_PRECHECK_WORD)
def test_each_precheck_word_lets_its_own_lines_be_raised(word: str, line: str) -> None:
    low = line[:HEAD_CHARS].lower()
    assert [w for w in _RAISING_WORDS.words if w in low] == [word]
    assert infer_severity(None, line) >= Severity.WARNING
