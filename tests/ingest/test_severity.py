"""Severity inference: explicit level tokens raise the declared level; prose does not."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from logvigil.core.events import Severity
from logvigil.ingest.severity import HEAD_CHARS, infer_severity

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "loghub_2k"

E, W, C = Severity.ERROR, Severity.WARNING, Severity.CRITICAL

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
    "",
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
