"""Benchmark: `logvigil search` and `logvigil ask` on a large store (issue 16: under
200 ms and under 1 s).

Ingests N JSONL lines (default 1,000,000) from T templates (default 10,000) into a
SQLite store with the real CLI, adds I incidents (default 1,000) through the incident
manager, then times `search_templates` in process for a set of queries, with and
without a time range and a service filter, then the deterministic `ask` for a few
questions: the median and the worst of R runs each (the first run of each query is
included: a CLI call pays it).

The incidents are made as the daemon makes them: `IncidentManager.process` is called
with one tick's findings (an error spike or a new error template of a service seen in
the store, on its host; every fourth incident a second service of the same host
joins), at moments spread evenly over the events' time span, so the manager opens them,
builds their context bundles from the stored lines and resolves them once quiet. Every
fifth one is investigated (`investigate.service.investigate`, deterministic) right
after it opened, which stores its report. To fit 1,000 incidents into the 2.8 hours of
events without the manager grouping them into fewer, the manager runs with a grouping
window of 1 minute, a quiet period of 5 minutes and no cooldown (on a store whose events
span too short a time for that, the incidents go on past its end); the incidents of the
last 5 minutes stay unresolved.

    uv run python bench/bench_search.py [--lines 1000000] [--templates 10000] [--runs 5]
        [--incidents 1000]
        [--db sqlite:////tmp/big.db]   # build the store there once, then reuse it
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import SERVICES, generate
from sqlalchemy import Engine, func, select

from detector.incidents.manager import ChangeKind, IncidentManager
from detector.incidents.model import IncidentConfig, IncidentStatus
from detector.incidents.topology import InventoryTopology
from graph.inventory import Inventory
from investigate.service import investigate
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.search.ask import answer_question
from logvigil.search.templates import search_templates
from logvigil.store.database import create_store_engine, sqlite_file
from logvigil.store.schema import IncidentRow, MinuteCount, ServiceTemplate, Template

QUERIES = (
    "connection refused",
    "disk full",
    "user login failed",
    "timeout while reading upstream",
    "out of memory killed",
    "zzz nothing matches",
)
TARGET_MS = 200
ASK_TARGET_MS = 1000
QUESTIONS = (
    "what happened on host-01 yesterday?",
    "how many errors did svc-001 log yesterday, by hour?",
    "why did connections time out since 09:00",
    "anything wrong in the last 2 hours",
    "which incidents were there yesterday?",
)


def build(db: str, lines: int, templates: int, tmp: Path) -> None:
    src = tmp / "events.jsonl"
    generate(src, lines, templates)
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "logvigil.cli", "ingest", str(src), "--format", "jsonl"]
    subprocess.run([*cmd, "--db", db], check=True, capture_output=True)
    print(f"ingested {lines:,} lines of {templates:,} templates in {time.perf_counter() - t:.0f} s")


#: Short windows, so that 1,000 incidents fit into the events' 2.8 hours without
#: grouping into fewer (the defaults group 30 minutes and resolve after 30 quiet ones).
INCIDENTS = IncidentConfig(
    grouping_window_minutes=1, resolve_after_quiet_minutes=5, cooldown_minutes=0
)
#: Every REPORT_EVERY-th incident is investigated (its report stored) right after it opens.
REPORT_EVERY = 5


def add_incidents(engine: Engine, n: int) -> None:
    """Open `n` incidents through `IncidentManager.process`, spread over the events'
    time span (see the module's doc), most of them resolved, a fifth with a report."""
    with engine.connect() as conn:
        pairs = conn.execute(
            select(MinuteCount.service, MinuteCount.host)
            .distinct()
            .order_by(MinuteCount.host, MinuteCount.service)
        ).all()
        first, last = conn.execute(
            select(func.min(MinuteCount.minute), func.max(MinuteCount.minute))
        ).one()
        errors: dict[str, list[int]] = {}
        for svc, tid in conn.execute(
            select(ServiceTemplate.service, ServiceTemplate.template_id)
            .join(Template, Template.id == ServiceTemplate.template_id)
            .where(Template.max_severity >= int(Severity.ERROR))
            .order_by(ServiceTemplate.service, ServiceTemplate.template_id)
        ):
            errors.setdefault(svc, []).append(tid)
    on_host: dict[str, list[str]] = {}
    for svc, host in pairs:
        on_host.setdefault(host, []).append(svc)
    inventory = Inventory.model_validate(
        {
            "hosts": {h: None for h in on_host},
            "services": {s: {"hosts": [h]} for s, h in pairs},
        }
    )
    topology = InventoryTopology(inventory)
    manager = IncidentManager(engine, topology, INCIDENTS)
    hosts = sorted(on_host)
    step = (last - first + timedelta(minutes=1)) / (n + 1)
    # Each host comes back every len(hosts) incidents: far enough apart not to group.
    if step * len(hosts) < timedelta(seconds=INCIDENTS.grouping_window_minutes * 60 + 31):
        step = timedelta(seconds=(INCIDENTS.grouping_window_minutes * 60 + 31) / len(hosts))
    visits: dict[str, itertools.cycle[str]] = {h: itertools.cycle(on_host[h]) for h in hosts}
    picks: dict[str, itertools.cycle[int]] = {s: itertools.cycle(t) for s, t in errors.items()}

    def finding(svc: str, host: str, at: datetime, k: int) -> Finding:
        started = at - timedelta(seconds=30)
        if k % 3 == 0 and svc in picks:
            tid = next(picks[svc])
            return Finding(
                detector="new_template",
                at=at,
                started_at=started,
                service=svc,
                host=host,
                severity=Severity.ERROR,
                summary=f"{svc}: first-seen ERROR template #{tid}",
                template_id=tid,
                evidence={"count": 3 + k % 7, "hosts": [host], "severity": "error"},
            )
        count = 20 + k % 50
        return Finding(
            detector="error_spike",
            at=at,
            started_at=started,
            service=svc,
            host=host,
            severity=Severity.CRITICAL if k % 11 == 0 else Severity.ERROR,
            summary=f"{svc}: {count} errors/min against a baseline of 0.4 ± 0.6",
            evidence={"count": count, "baseline_mean": 0.4, "baseline_sd": 0.6},
        )

    t = time.perf_counter()
    opened = reported = 0
    for k in range(n):
        at = first + step * (k + 1)
        host = hosts[k % len(hosts)]
        findings = [finding(next(visits[host]), host, at, k)]
        if k % 4 == 3 and len(on_host[host]) > 1:  # a second service of the host joins
            findings.append(finding(next(visits[host]), host, at, k + 1))
        for change in manager.process(findings, at):
            if change.kind is not ChangeKind.OPENED:
                continue
            opened += 1
            if opened % REPORT_EVERY == 0:
                investigate(engine, topology, change.incident.id, incidents=INCIDENTS, now=at)
                reported += 1
    print(
        f"added {opened:,} incidents ({reported:,} investigated) over "
        f"{first:%H:%M}-{first + step * (n + 1):%H:%M} in {time.perf_counter() - t:.0f} s"
    )


def incident_counts(engine: Engine) -> tuple[int, int, int]:
    """(incidents, resolved ones, ones with a report) in the store."""
    with engine.connect() as conn:
        rows = conn.execute(select(IncidentRow.status, IncidentRow.report)).all()
    resolved = sum(status == IncidentStatus.RESOLVED for status, _ in rows)
    return len(rows), resolved, sum(report is not None for _, report in rows)


def open_store(db: str | None, tmp: Path, lines: int, templates: int, incidents: int) -> Engine:
    """The large store at `db` (built there when its file is missing; in `tmp` without `db`),
    with `incidents` added when it has none."""
    url = db or f"sqlite:///{tmp / 'big.db'}"
    path = sqlite_file(url)
    if db is None or (path is not None and not path.exists()):
        build(url, lines, templates, tmp)
    engine = create_store_engine(url)
    if incidents and incident_counts(engine)[0] == 0:
        add_incidents(engine, incidents)
    return engine


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--templates", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument(
        "--db",
        default=None,
        help="the store to search: built there when its file is missing, else reused as is "
        "(its incidents added when it has none)",
    )
    args = ap.parse_args()
    if args.runs < 1:
        ap.error(f"--runs: give 1 or more, got {args.runs}")
    if args.incidents < 0:
        ap.error(f"--incidents: give 0 or more, got {args.incidents}")
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as tmp:
        engine = open_store(args.db, Path(tmp), args.lines, args.templates, args.incidents)
        total, resolved, reports = incident_counts(engine)
        print(f"store: {total:,} incidents ({resolved:,} resolved, {reports:,} with a report)")
        since = datetime(2026, 3, 4, 8, tzinfo=UTC) + timedelta(hours=1)
        cases = {
            "all time": {},
            "one hour": {"since": since, "until": since + timedelta(hours=1)},
            "one service": {"service": SERVICES[0]},
        }
        worst_median = 0.0
        for label, filters in cases.items():
            for q in QUERIES:
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    hits = search_templates(engine, q, limit=10, **filters)
                    times.append((time.perf_counter() - t) * 1000)
                median = statistics.median(times)
                worst_median = max(worst_median, median)
                print(
                    f"{label:12s} {q!r:36s} median {median:6.1f} ms, worst {max(times):6.1f} ms, "
                    f"{len(hits)} hits"
                )
        verdict = "OK" if worst_median < TARGET_MS else "MISSED"
        print(f"slowest median: {worst_median:.1f} ms [target < {TARGET_MS} ms: {verdict}]")
        # The generated lines are from 2026-03-04 08:00 UTC on: ask as of the next morning.
        now = datetime(2026, 3, 5, 9, tzinfo=UTC)
        worst_ask = 0.0
        for question in QUESTIONS:
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                answer_question(engine, question, now=now, zone=UTC)
                times.append((time.perf_counter() - t) * 1000)
            median = statistics.median(times)
            worst_ask = max(worst_ask, median)
            print(f"ask {question!r:52s} median {median:6.1f} ms, worst {max(times):6.1f} ms")
        verdict = "OK" if worst_ask < ASK_TARGET_MS else "MISSED"
        print(f"ask, slowest median: {worst_ask:.1f} ms [target < {ASK_TARGET_MS} ms: {verdict}]")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
