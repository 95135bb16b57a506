"""Primitive findings are rooted at what failed: after attribution (no inventory) a unit
systemd reports failing is the finding's service, and an OOM kill in the old kernel
wording is its victim's, while the messenger's own finding gives way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.detectors.base import CountRow, Window
from detector.detectors.primitive import PrimitiveDetector
from graph.attribution import attribute
from graph.inventory import Inventory
from logvigil.core.events import LogEvent, Severity
from logvigil.core.findings import Finding
from logvigil.ingest.templates import TemplateMiner

T0 = datetime(2022, 5, 22, 22, 53, tzinfo=UTC)
MIN = timedelta(minutes=1)
EMPTY = Inventory.model_validate({})


def findings(host: str, lines: list[tuple[str, str]]) -> list[Finding]:
    """Read (service, message) lines of one minute as ingest would, then run `primitive`."""
    miner = TemplateMiner()
    rows, texts = [], {}
    for service, message in lines:
        svc = attribute(LogEvent(T0, host, service, Severity.INFO, message), EMPTY)
        m = miner.add(message)
        texts[m.template_id] = m.template
        rows.append(CountRow(T0, host, svc, m.template_id, Severity.ERROR, 1))
    return PrimitiveDetector().evaluate(Window(T0, T0 + MIN, tuple(rows), texts), {}, T0 + MIN)[0]


def test_a_failed_unit_is_the_subject_of_its_finding() -> None:
    # plemma_syslog.log, 05-22 22:53:42
    (f,) = findings(
        "vultr",
        [
            ("cyrus/master", "cannot find executable for service 'imap'"),
            ("systemd", "cyrus-imapd.service: Main process exited, code=exited, status=78/CONFIG"),
            ("systemd", "cyrus-imapd.service: Failed with result 'exit-code'."),
            ("systemd", "Failed to start Cyrus IMAP/POP3 daemon."),
        ],
    )
    assert (f.service, f.host, f.kind) == ("cyrus-imapd", "vultr", "unit_failed")
    assert f.summary.startswith("cyrus-imapd on vultr: unit failed")


def test_an_old_wording_oom_kill_is_its_victims_and_the_kernels_gives_way() -> None:
    found = findings(
        "combo",
        [
            ("kernel", "httpd invoked oom-killer: gfp_mask=0xd0, order=0, oomkilladj=0"),
            ("kernel", "Out of memory: Kill process 1234 (httpd) score 500 or sacrifice child"),
            ("kernel", "Killed process 1234 (httpd) total-vm:1024kB, anon-rss:512kB"),
        ],
    )
    assert [(f.service, f.kind) for f in found] == [("httpd", "oom_kill")]


def test_a_loghub_oom_kill_is_the_victims() -> None:
    # loghub_Linux_full.log, 11-15 04:30:29
    (f,) = findings("combo", [("kernel", "Out of Memory: Killed process 28473 (httpd).")])
    assert (f.service, f.kind) == ("httpd", "oom_kill")
