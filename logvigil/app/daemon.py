"""`logvigil run`: the scheduler that drives one process's parts on a clock.

The main thread polls the sources (`logvigil.app.sources.SourcePool`) and
flushes what they yield into the store; an APScheduler 3.x `BackgroundScheduler`
runs the detector tick every `detector.tick_seconds` (a few seconds after each
minute boundary, so the completed minute is flushed), the notification sender,
retention hourly, an inventory reload check every 30 s and the status file
(`logvigil.app.status`). SIGTERM and SIGINT (`logvigil.app.signals`) set the
stop event: the ingest loop flushes, the scheduler finishes the tick in
progress (`shutdown(wait=True)`), and the process exits 0.
`logvigil.app.factory.build_daemon` builds a ready daemon from the settings.

A process has a `Role`: `ingest` reads sources and flushes them into the store;
`detect` ticks, keeps retention and sends notifications; `all` (the default)
does both. Of the processes that detect, only the leader
(`logvigil.app.leader.Leadership`, a lock in the store) ticks, purges and sends;
the others try to take the lock at every tick, so one takes over within a tick
of the leader's death.

The tick is the only reader of the wall clock in the detection path: it reads
`now` once and passes it down. Right before it, the process records its own
sources' health in the store, so the `host_unreachable` detector sees them at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from detector.tick import TickResult
from graph.reload import InventoryReloader, ReloadStatus
from logvigil.app.leader import AlwaysLeader, Leader, Leadership
from logvigil.app.leader import identity as process_identity
from logvigil.app.metrics import DaemonMetrics
from logvigil.app.runtime import Runtime
from logvigil.app.sources import SourcePool
from logvigil.app.status import ProcessStatus, write_status_file
from logvigil.core.timeutil import wall_clock
from logvigil.ingest.sources import LineSource
from logvigil.search.embed import Embedder
from logvigil.search.vectors import backfill
from logvigil.store.database import StoreError
from logvigil.store.retention import purge
from logvigil.store.source_health import record_source_health
from notify import build_notifiers
from notify.outbox import Sender

log = logging.getLogger(__name__)

#: The ingest loop flushes at least this often, so a tick sees every completed minute.
FLUSH_EVERY_S = 2.0
#: Seconds after a minute boundary at which the tick runs.
TICK_OFFSET_S = 5
#: APScheduler: a tick may start this late (e.g. after a suspend) and still run.
MISFIRE_GRACE_S = 30
RELOAD_EVERY_S = 30
#: The outbox is drained this often: a 429's retry_after is honoured within seconds.
SEND_EVERY_S = 5
#: Seconds between two runs of the embedding backfill, and the templates each embeds.
EMBED_EVERY_S = 60
EMBED_PER_RUN = 512
#: The process's status file (`logvigil status`) is rewritten this often.
STATUS_EVERY_S = 5


class Role(StrEnum):
    """What one `logvigil run` process does (`--role`)."""

    INGEST = "ingest"  # sources -> store
    DETECT = "detect"  # tick, retention, notifications: the leader only
    ALL = "all"  # both, in one process

    @property
    def ingests(self) -> bool:
        return self is not Role.DETECT

    @property
    def detects(self) -> bool:
        return self is not Role.INGEST


class Daemon:
    """The loops of one process: ingest, detect, or both (`role`).

    `leader` is the leadership lock that decides which detecting process ticks
    (default: this one alone); `metrics` is told what happens when given;
    `status_path` is where the process's status is written for `logvigil status`;
    `identity` names the process to the others (default `host:pid`).
    """

    def __init__(
        self,
        runtime: Runtime,
        sources: Sequence[LineSource],
        *,
        role: Role = Role.ALL,
        leader: Leader | None = None,
        metrics: DaemonMetrics | None = None,
        status_path: Path | None = None,
        clock: Callable[[], datetime] = wall_clock,
        on_tick: Callable[[TickResult], None] | None = None,
        identity: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.role = role
        self.identity = identity if identity is not None else process_identity()
        self.clock = clock
        self.metrics = metrics
        self.status_path = status_path
        self.on_tick = on_tick
        self.sources = SourcePool(sources if role.ingests else (), clock=clock, metrics=metrics)
        self.leader = Leadership(
            leader if leader is not None else AlwaysLeader(),
            runtime.engine,
            self.identity,
            clock=clock,
            on_takeover=runtime.reload_detector_state,
            metrics=metrics,
            role=role,
        )
        self.stop = threading.Event()
        self.started_at = clock()
        self.last_tick: TickResult | None = None
        self.stopped = False
        self._tick_lock = threading.Lock()
        if metrics is not None:
            runtime.metrics = metrics
        self.reloader = InventoryReloader(runtime.settings.graph.inventory, runtime.graph)
        # Deferred: APScheduler is a heavy import that only a running daemon needs, not
        # every `logvigil` command that imports this module.
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_S,
            },
        )

    # ---------------------------------------------------------------- jobs

    def tick(self) -> TickResult | None:
        """One detector tick on the wall clock, by the leader only. Errors are logged,
        never raised; returns None when nothing ran."""
        if not self.role.detects:
            return None
        with self._tick_lock:
            if not self.leader.confirm():
                return None
            t0 = time.perf_counter()
            try:
                now = self.clock()
                self.record_health(now)
                result = self.runtime.tick(now)
            except Exception:
                log.exception("detector tick failed; the next tick retries")
                return None
            seconds = time.perf_counter() - t0
        self.last_tick = result
        if self.metrics is not None:
            self.metrics.observe_tick(result, seconds)
        for change in result.changes:
            log.info("incident %s: %s", change.kind, change.incident.title)
        if self.on_tick is not None:
            self.on_tick(result)
        return result

    def send(self) -> None:
        """Deliver due notifications (the leader only). Never raises: a channel's
        failure is the outbox's."""
        if not self.leader.held:
            return
        try:
            result = Sender(
                self.runtime.engine, build_notifiers(self.runtime.settings.notify)
            ).drain(self.clock())
        except Exception:
            log.exception("notification sender failed; retried in %ss", SEND_EVERY_S)
            return
        if self.metrics is not None:
            self.metrics.observe_drain(result)

    def retention(self) -> None:
        if not self.leader.held:
            return
        db = self.runtime.settings.database
        try:
            r = purge(
                self.runtime.engine,
                self.clock(),
                event_days=db.event_retention_days,
                count_days=db.count_retention_days,
            )
            log.info(
                "retention: purged %d events, %d count rows, %d forgotten sources",
                r.events,
                r.count_rows,
                r.sources,
            )
        except Exception:
            log.exception("retention failed; retried next hour")

    def embed_templates(self) -> None:
        """Backfill the vectors of new or changed templates (semantic search), a bounded
        batch per run, off the ingest path: ingest never waits on the model."""
        if not self.leader.held:
            return
        try:
            done = backfill(
                self.runtime.engine,
                Embedder(self.runtime.settings.embeddings),
                self.clock(),
                EMBED_PER_RUN,
            )
            if done:
                log.info("embeddings: %d template(s) embedded", done)
        except Exception:
            log.exception("embedding templates failed; retried in %d s", EMBED_EVERY_S)

    def reload_inventory(self) -> None:
        try:
            result = self.reloader.check()
        except Exception:
            log.exception("inventory reload failed; the last good graph stays in use")
            return
        if result.status is ReloadStatus.LOADED and self.reloader.inventory is not None:
            self.runtime.use_inventory(self.reloader.inventory)

    def status(self) -> ProcessStatus:
        """This process's state, as `logvigil status` shows it."""
        inv = self.runtime.inventory
        return ProcessStatus(
            identity=self.identity,
            pid=os.getpid(),
            role=self.role.value,
            leader=self.leader.held,
            stopped=self.stopped,
            started_at=self.started_at,
            updated_at=self.clock(),
            inventory_path=str(self.runtime.settings.graph.inventory),
            hosts=len(inv.hosts),
            services=len(inv.services),
            problems=tuple(str(p) for p in self.reloader.problems),
            last_tick=self.last_tick,
        )

    def record_health(self, now: datetime) -> None:
        """Rewrite this process's rows of the store's source health, as of `now`.
        Never raises: a store that cannot be written is logged."""
        try:
            record_source_health(self.runtime.engine, self.sources.health(self.identity, now))
        except Exception as exc:
            log.warning("cannot record the sources' health: %s", type(exc).__name__)

    def write_status(self) -> None:
        """Rewrite the status file atomically and this process's rows of the store's
        source health. Never raises."""
        self.record_health(self.clock())
        if self.status_path is None:
            return
        try:
            write_status_file(self.status_path, self.status().to_json())
        except Exception as exc:
            log.warning("cannot write %s: %s", self.status_path, exc)

    # ---------------------------------------------------------------- ingest

    def ingest_loop(self) -> None:
        """Poll the sources until `stop` is set (or every source finished), flushing
        at least every `FLUSH_EVERY_S`; a store error keeps the batch for the next try."""
        last_flush = time.monotonic()
        while not self.stop.is_set():
            busy = self.sources.poll_all(self.runtime.ingestor)
            if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                try:
                    self.runtime.ingestor.flush()
                except StoreError as exc:
                    log.error("%s; the batch is kept and retried", exc)
                last_flush = time.monotonic()
            if self.sources.exhausted and not self.stop.is_set():
                log.info("every source finished; stopping")
                self.stop.set()
            if not busy:
                self.stop.wait(0.5)
        self.runtime.ingestor.flush()

    # ---------------------------------------------------------------- run

    def start_scheduler(self) -> None:
        now = self.clock()
        tick_s = self.runtime.settings.detector.tick_seconds
        if tick_s >= 60:
            first = now.replace(second=0, microsecond=0) + timedelta(
                minutes=1, seconds=TICK_OFFSET_S
            )
        else:  # sub-minute ticks (tests, fast takeover): a minute is evaluated once complete
            first = now + timedelta(seconds=tick_s)
        if self.role.detects:
            self.scheduler.add_job(
                self.tick, "interval", seconds=tick_s, next_run_time=first, id="tick"
            )
            self.scheduler.add_job(
                self.retention,
                "interval",
                hours=1,
                next_run_time=first + timedelta(seconds=1),
                id="retention",
            )
            self.scheduler.add_job(self.send, "interval", seconds=SEND_EVERY_S, id="send")
            if self.runtime.settings.embeddings.provider != "none":
                self.scheduler.add_job(
                    self.embed_templates,
                    "interval",
                    seconds=EMBED_EVERY_S,
                    next_run_time=first + timedelta(seconds=2),
                    id="embed",
                )
        # Ingest attributes events to the inventory's services, detection groups over it.
        self.scheduler.add_job(
            self.reload_inventory, "interval", seconds=RELOAD_EVERY_S, id="reload"
        )
        if self.status_path is not None or self.sources.all:
            self.scheduler.add_job(
                self.write_status,
                "interval",
                seconds=STATUS_EVERY_S,
                next_run_time=now,
                id="status",
            )
        self.scheduler.start()

    def run(self) -> None:
        """Block until SIGTERM / SIGINT (or every source finished), then stop cleanly."""
        log.info(
            "logvigil running as %s (%s), %d source(s)",
            self.role.value,
            self.identity,
            len(self.sources.active),
            extra={"role": self.role.value},
        )
        if self.role.detects:
            with self._tick_lock:
                self.leader.confirm()  # before the first tick: the leader drains the outbox at once
        self.start_scheduler()
        try:
            self.ingest_loop()
        finally:
            self.scheduler.shutdown(wait=True)  # lets a running tick finish
            self.tick()  # evaluate what the last flush completed (the leader only)
            self.leader.release()
            self.sources.close()  # journalctl / ssh children must not outlive us
            self.stopped = True
            self.write_status()

    def close(self) -> None:
        """Release what the factory opened for this daemon: the runtime and the metrics."""
        self.runtime.close()
        if self.metrics is not None:
            self.metrics.close()
