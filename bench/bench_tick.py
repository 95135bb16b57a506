"""Benchmark: one full detector tick (read the window from SQLite, four detectors,
incidents, state write) at 1,000 services and 20,000 active templates.

The store is filled directly with per-minute counts: 20 templates per service,
every one active every minute, for the learning period plus the measured
minutes. The same run is repeated with every count multiplied by 1,000 to show
that a tick's cost does not depend on raw log volume (only on active rows).

    uv run python bench/bench_tick.py [--services 1000] [--templates-per-service 20]

Target (issue 4): a tick under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from detector.tick import Ticker
from logvigil.app.settings import Settings
from logvigil.store.schema import MinuteCount, ServiceTemplate, Template
from logvigil.store.upsert import upsert
from migrations.apply import open_engine

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def fill(engine, services: int, per_service: int, minutes: int, scale: int) -> None:
    tids = range(1, services * per_service + 1)
    with engine.begin() as conn:
        upsert(
            conn,
            Template.__table__,
            [
                {
                    "id": t,
                    "template": f"op {t} finished in <*> ms",
                    "first_seen": T0,
                    "last_seen": T0,
                    "count": 1,
                    "max_severity": 1,
                }
                for t in tids
            ],
            {"count": "add"},
        )
        upsert(
            conn,
            ServiceTemplate.__table__,
            [
                {
                    "service": f"svc-{(t - 1) // per_service:04d}",
                    "template_id": t,
                    "first_seen": T0,
                    "last_seen": T0,
                    "count": 1,
                    "max_severity": 1,
                }
                for t in tids
            ],
            {"count": "add"},
        )
    for m in range(minutes):
        minute = T0 + timedelta(minutes=m)
        rows = []
        for t in tids:
            s = (t - 1) // per_service
            sev = 4 if t % per_service == 0 else 1  # one error template per service
            rows.append(
                {
                    "minute": minute,
                    "host": f"host-{s % 50:02d}",
                    "service": f"svc-{s:04d}",
                    "template_id": t,
                    "severity": sev,
                    "count": scale * (1 + (t + m) % 3),
                }
            )
        with engine.begin() as conn:
            upsert(conn, MinuteCount.__table__, rows, {"count": "add"})


def measure(services: int, per_service: int, scale: int, warm: int, ticks: int) -> list[float]:
    from detector.detectors import build_detectors
    from detector.incidents.manager import IncidentManager
    from detector.incidents.topology import InventoryTopology
    from logvigil.app.runtime import empty_inventory

    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'tick.db'}")
        fill(engine, services, per_service, warm + ticks, scale)
        manager = IncidentManager(engine, InventoryTopology(empty_inventory()))
        ticker = Ticker(engine, build_detectors(settings.detector.detectors()), incidents=manager)
        ticker.tick(T0 + timedelta(minutes=1))
        for m in range(2, warm):
            ticker.tick(T0 + timedelta(minutes=m))
        out = []
        for m in range(warm, warm + ticks):
            t = time.perf_counter()
            ticker.tick(T0 + timedelta(minutes=m))
            out.append((time.perf_counter() - t) * 1000)
        engine.dispose()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--templates-per-service", type=int, default=20)
    ap.add_argument("--ticks", type=int, default=15)
    args = ap.parse_args()
    n = args.services * args.templates_per_service
    print(f"{args.services:,} services, {n:,} active templates ({n:,} count rows per minute)")
    for scale in (1, 1000):
        ms = measure(args.services, args.templates_per_service, scale, warm=5, ticks=args.ticks)
        lines = n * 2 * scale
        print(
            f"~{lines:,} lines/min: tick median {statistics.median(ms):.1f} ms, "
            f"max {max(ms):.1f} ms over {len(ms)} ticks"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
