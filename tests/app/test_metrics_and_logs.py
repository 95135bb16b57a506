"""The daemon's Prometheus metrics over real HTTP, and its own logs: JSON, text, no secrets."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from logvigil.app.logs import SecretFilter, setup_logging
from logvigil.app.metrics import DaemonMetrics, MetricsConfig
from logvigil.core.redact import redact
from logvigil.ingest.ingestor import IngestSummary

WEBHOOK = "https://discord.com/api/webhooks/123456789/sEcReT-ToKeN_abcdef"


# --------------------------------------------------------------------------- metrics


def test_metrics_are_off_unless_a_port_is_configured() -> None:
    assert MetricsConfig().port is None
    assert MetricsConfig().bind == "127.0.0.1"


def test_the_exporter_serves_every_metric_on_loopback() -> None:
    pytest.importorskip("prometheus_client")
    metrics = DaemonMetrics()
    port = metrics.serve(MetricsConfig(port=0))
    try:
        metrics.observe_lines("file:/var/log/syslog", 3)
        summary = IngestSummary(dropped=Counter({"web-scanner-4xx": 2}))
        summary.rejected["malformed JSON"] = 1
        metrics.observe_ingest(summary)
        summary.dropped["web-scanner-4xx"] += 1
        metrics.observe_ingest(summary)  # only the difference is added
        finding = SimpleNamespace(detector="error_spike")
        change = SimpleNamespace(kind=SimpleNamespace(value="opened"))
        tick = SimpleNamespace(findings=[finding, finding], changes=[change])
        metrics.observe_tick(tick, 0.02)
        from notify.outbox import DeliveryOutcome, DrainResult, OutboxStatus

        metrics.observe_drain(
            DrainResult(
                outcomes=[
                    DeliveryOutcome(1, "discord", OutboxStatus.PENDING, "HTTP 500"),
                    DeliveryOutcome(2, "email", OutboxStatus.SENT),
                ]
            )
        )
        metrics.observe_investigation(0.5)
        metrics.leader.set(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            body = resp.read().decode()
    finally:
        metrics.close()
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line and not line.startswith("#")
    }
    assert values['logvigil_lines_total{source="file:/var/log/syslog"}'] == 3
    assert values['logvigil_dropped_total{rule="web-scanner-4xx"}'] == 3
    assert values['logvigil_rejected_total{reason="malformed JSON"}'] == 1
    assert values["logvigil_tick_duration_seconds_count"] == 1
    assert values['logvigil_findings_total{detector="error_spike"}'] == 2
    assert values['logvigil_incidents_total{event="opened"}'] == 1
    assert values['logvigil_notification_failures_total{channel="discord"}'] == 1
    assert 'logvigil_notification_failures_total{channel="email"}' not in values
    assert values["logvigil_investigation_duration_seconds_count"] == 1
    assert values["logvigil_leader"] == 1


# --------------------------------------------------------------------------- logs


@pytest.mark.parametrize(
    ("secret", "kept"),
    [
        (WEBHOOK, "https://discord.com/api/webhooks/"),
        ("postgresql+psycopg://logvigil:hunter2@db-01/logvigil", "logvigil:"),
        ("calling https://api.example.com/?api_key=sk-12345678abc", "api_key="),
        ("Authorization: Bearer eyJhbGciOi.payload1234.sig", "Authorization: "),
        ("token abcdefgh12345678", "token"),
        ("smtp password=s3cr3t-pass", "password="),
    ],
)
def test_secrets_are_redacted(secret: str, kept: str) -> None:
    out = redact(secret)
    assert kept in out and "<redacted>" in out
    for word in ("sEcReT", "hunter2", "sk-12345678abc", "payload1234", "12345678", "s3cr3t"):
        assert word not in out


def _capture(json_lines: bool) -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = setup_logging(json_lines, stream=stream)
    return stream, handler


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_json_lines_carry_the_fields_and_never_a_secret() -> None:
    stream, _ = _capture(True)
    log = logging.getLogger("detector.test")
    log.info("posting to %s", WEBHOOK, extra={"channel": "discord", "url": WEBHOOK})
    try:
        raise RuntimeError(f"connect failed: {WEBHOOK}")
    except RuntimeError:
        log.exception("send failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["msg"].split(" ")[0] for r in lines] == ["posting", "send"]
    first = lines[0]
    assert first["level"] == "info" and first["logger"] == "detector.test"
    assert first["channel"] == "discord"
    assert datetime.fromisoformat(first["ts"]).tzinfo == UTC
    assert "RuntimeError" in lines[1]["exc"]
    assert "sEcReT" not in stream.getvalue()


def test_text_logs_on_a_terminal_are_redacted_too() -> None:
    stream, _ = _capture(False)
    logging.getLogger("sqlalchemy.engine").warning(
        "cannot connect to postgresql://u:topsecret@db/x"
    )
    text = stream.getvalue()
    assert "WARNING sqlalchemy.engine: cannot connect to postgresql://u:" in text
    assert "topsecret" not in text and not text.startswith("{")


def test_json_is_chosen_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()  # isatty() is False, as under systemd
    setup_logging(stream=stream)
    logging.getLogger("x").info("hello")
    assert json.loads(stream.getvalue())["msg"] == "hello"


def test_a_bad_format_string_is_still_logged_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "oops %s %s", (WEBHOOK,), None)
    assert SecretFilter().filter(record)
    assert "sEcReT" not in record.getMessage()
