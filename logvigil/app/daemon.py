"""`logvigil run`: the always-on daemon.

The main thread ingests from the configured sources; an APScheduler 3.x
`BackgroundScheduler` runs the detector tick every `detector.tick_seconds`
(a few seconds after each minute boundary, so the completed minute is flushed),
retention hourly, and an inventory reload check every 30 s. SIGTERM and SIGINT
set a stop event: the ingest loop flushes, the scheduler finishes the tick in
progress (`shutdown(wait=True)`), and the process exits 0.

A process has a `Role`: `ingest` reads sources and flushes them into the store;
`detect` ticks, keeps retention and sends notifications; `all` (the default)
does both. Of the processes that detect, only the leader (`logvigil.app.leader`,
a lock in the store) ticks, purges and sends; the others try to take the lock
at every tick, so one takes over within a tick of the leader's death.

The tick is the only reader of the wall clock in the detection path: it reads
`now` once and passes it down.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from detector.tick import TickResult
from graph.reload import InventoryReloader, ReloadStatus
from logvigil.app.leader import AlwaysLeader, Leader, identity, record_heartbeat
from logvigil.app.runtime import Runtime
from logvigil.app.settings import Settings
from logvigil.core.events import LogEvent
from logvigil.core.findings import Finding
from logvigil.core.timeutil import iso_z, wall_clock
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.sources import SOURCES, LineSource, build_source
from logvigil.ingest.sources.ssh_journald import Reachability, unreachable_findings
from logvigil.store.database import StoreError
from logvigil.store.retention import purge
from logvigil.store.source_health import (
    SourceHealthRecord,
    read_source_health,
    record_source_health,
)

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
#: A source that fails is retried after 1, 2, 4, ... seconds, at most this many.
MAX_SOURCE_BACKOFF_S = 60
#: The process's status file (`logvigil status`) is rewritten this often.
STATUS_EVERY_S = 5
STATUS_FILE = "status.json"
#: source class -> its config `type`, for the store's source health
SOURCE_KINDS: dict[type, str] = {cls: kind for kind, cls in SOURCES.items()}


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




def build_sources(settings: Settings, cursors: dict[str, str]) -> list[LineSource]:
    """Every source of the configuration, each resuming at its stored cursor (stored
    under the source's name)."""
    return [build_source(spec, cursors.get(spec.source_name)) for spec in settings.sources]


class Daemon:
    """The loops of one process: ingest, detect, or both (`role`).

    `leader` decides which detecting process ticks (default: this one alone);
    `metrics` (a `logvigil.app.metrics.Metrics`) is told what happens when given;
    `status_path` is where the process's status is written for `logvigil status`.
    """

    def __init__(
        self,
        runtime: Runtime,
        sources: Sequence[LineSource],
        *,
        role: Role = Role.ALL,
        leader: Leader | None = None,
        metrics: Any | None = None,
        status_path: Path | None = None,
        clock: Callable[[], datetime] = wall_clock,
        on_tick: Callable[[TickResult], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.role = role
        self.sources = list(sources) if role.ingests else []
        self.all_sources = list(self.sources)  # `sources` loses the finished ones
        self._had_sources = bool(self.sources)
        self.leader: Leader = leader if leader is not None else AlwaysLeader()
        self.metrics = metrics
        self.status_path = status_path
        self.identity = identity()
        self.clock = clock
        self.on_tick = on_tick
        self.stop = threading.Event()
        self.started_at = clock()
        self.last_tick: TickResult | None = None
        self.stopped = False
        self._tick_lock = threading.Lock()
        self._source_retry: dict[str, float] = {}
        self._source_failures: dict[str, int] = {}
        self._source_state: dict[str, dict[str, Any]] = {
            src.name: _fresh_state() for src in self.sources
        }
        if metrics is not None:
            runtime.metrics = metrics
        self.reloader = InventoryReloader(runtime.settings.graph.inventory, runtime.graph)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_S,
            },
        )

    # ---------------------------------------------------------------- jobs

    def lead(self) -> bool:
        """Take or confirm leadership; False (and nothing to do) for a follower.

        A process that just became the leader reloads the detector state from
        the store: what it loaded at start is as old as the previous leader's work.
        """
        was = self.leader.held
        if not self.leader.try_acquire():
            if was:
                log.warning("lost the detector leadership; following", extra={"role": self.role})
            if self.metrics is not None:
                self.metrics.leader.set(0)
            return False
        if not was:
            log.info("detector leader now: %s", self.identity, extra={"leader": self.identity})
            try:
                self.runtime.reload_detector_state()
            except Exception:
                log.exception("reloading the detector state failed; following for now")
                self.leader.release()
                return False
        if self.metrics is not None:
            self.metrics.leader.set(1)
        try:
            record_heartbeat(
                self.runtime.engine, self.identity, int(self.clock().timestamp()), took_over=not was
            )
        except Exception as exc:
            log.warning("recording the leader heartbeat failed: %s", type(exc).__name__)
        return True

    def tick(self) -> TickResult | None:
        """One detector tick on the wall clock, by the leader only. Errors are logged,
        never raised; returns None when nothing ran."""
        if not self.role.detects:
            return None
        with self._tick_lock:
            if not self.lead():
                return None
            t0 = time.perf_counter()
            try:
                now = self.clock()
                result = self.runtime.tick(now, self.unreachable(now))
            except Exception:
                log.exception("detector tick failed; the next tick retries")
                return None
            seconds = time.perf_counter() - t0
        self.last_tick = result
        if self.metrics is not None:
            self.metrics.observe_tick(result, seconds)
        for change in result.changes:
            log.info("incident %s: %s", getattr(change, "kind", "?"), _title(change))
        if self.on_tick is not None:
            self.on_tick(result)
        return result

    def send(self) -> None:
        """Deliver due notifications (the leader only). Never raises: a channel's
        failure is the outbox's."""
        from notify import build_notifiers
        from notify.outbox import Sender

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

    def reload_inventory(self) -> None:
        try:
            result = self.reloader.check()
        except Exception:
            log.exception("inventory reload failed; the last good graph stays in use")
            return
        if result.status is ReloadStatus.LOADED and self.reloader.inventory is not None:
            self.runtime.use_inventory(self.reloader.inventory)

    def status(self) -> dict[str, Any]:
        """This process's state, as `logvigil status` shows it (JSON-ready)."""
        inv = self.runtime.inventory
        last = self.last_tick
        return {
            "version": 1,
            "identity": self.identity,
            "pid": os.getpid(),
            "role": self.role.value,
            "leader": self.leader.held,
            "stopped": self.stopped,
            "started_at": iso_z(self.started_at),
            "updated_at": iso_z(self.clock()),
            "inventory": {
                "path": str(self.runtime.settings.graph.inventory),
                "hosts": len(inv.hosts),
                "services": len(inv.services),
                "problems": [str(p) for p in self.reloader.problems],
            },
            "last_tick": None
            if last is None
            else {
                "at": iso_z(last.at),
                "duration_ms": round(last.duration_ms, 1),
                "findings": len(last.findings),
            },
        }

    def write_status(self) -> None:
        """Rewrite the status file atomically and this process's rows of the store's
        source health. Never raises."""
        try:
            record_source_health(self.runtime.engine, self.source_health())
        except Exception as exc:
            log.warning("cannot record the sources' health: %s", type(exc).__name__)
        if self.status_path is None:
            return
        from logvigil.app.status import write_status_file

        try:
            write_status_file(self.status_path, self.status())
        except Exception as exc:
            log.warning("cannot write %s: %s", self.status_path, exc)

    def source_health(self) -> list[SourceHealthRecord]:
        """What this process knows of each of its sources, for the store."""
        now = self.clock()
        records = []
        for source in self.all_sources:
            state = self._source_state.get(source.name) or _fresh_state()
            reach = Reachability.of(source)
            records.append(
                SourceHealthRecord(
                    source=source.name,
                    process=self.identity,
                    kind=SOURCE_KINDS.get(type(source), type(source).__name__),
                    updated_at=now,
                    host=reach.host if reach is not None else None,
                    lines=state["lines"],
                    failures=self._source_failures.get(source.name, 0),
                    error=state["error"],
                    last_lines_at=state["last_lines_at"],
                    last_event_at=state["last_event_at"],
                    unreachable_since=reach.since if reach is not None else None,
                    unreachable_grace_s=int(reach.grace.total_seconds())
                    if reach is not None
                    else None,
                )
            )
        return records

    def unreachable(self, now: datetime) -> list[Finding]:
        """`host_unreachable` findings: from this process's SSH sources, and from
        those other running processes recorded in the store (a detect-only leader
        has no sources of its own). Never raises: the store's part is skipped
        when it cannot be read."""
        mine = {source.name for source in self.all_sources}
        items: list[object] = list(self.sources)
        try:
            with self.runtime.engine.connect() as conn:
                records = read_source_health(conn)
        except Exception as exc:
            log.warning("cannot read the sources' health: %s", type(exc).__name__)
            records = []
        for r in records:
            if r.source in mine or r.stale(now) or r.host is None:
                continue
            grace = timedelta(seconds=r.unreachable_grace_s or 0)
            items.append(Reachability(r.source, r.host, r.unreachable_since, grace, r.error))
        return unreachable_findings(items, now)

    # ---------------------------------------------------------------- ingest

    def _poll(self, source: LineSource) -> bool:
        """Ingest what `source` has now; returns whether it yielded lines."""
        now = time.monotonic()
        if self._source_retry.get(source.name, 0) > now:
            return False
        state = self._source_state.setdefault(source.name, _fresh_state())
        try:
            batch = source.poll(5000)
        except Exception as exc:
            n = self._source_failures.get(source.name, 0) + 1
            self._source_failures[source.name] = n
            delay = min(2 ** (n - 1), MAX_SOURCE_BACKOFF_S)
            self._source_retry[source.name] = now + delay
            state["error"] = f"{type(exc).__name__}: {exc}"[:500]
            log.error(
                "source %s failed (%s); retrying in %ss",
                source.name,
                exc,
                delay,
                extra={"source": source.name},
            )
            return False
        self._source_failures.pop(source.name, None)
        state["error"] = getattr(source, "error", None)
        if batch.lines:
            # The batch's events and its cursor go into the same flush: added first, the
            # cursor set, and only then may the ingestor flush. A crash before the flush
            # re-reads the batch; after it, nothing is read twice.
            ingestor = self.runtime.ingestor
            latest: datetime | None = None
            for item in read_events(batch.lines, source.format, ReadOptions(source=source.name)):
                ingestor.add(item)
                if isinstance(item, LogEvent) and (latest is None or item.ts > latest):
                    latest = item.ts
            if batch.cursor is not None:
                ingestor.set_cursor(source.name, batch.cursor)
            ingestor.maybe_flush()
            state["lines"] += len(batch.lines)
            state["last_lines_at"] = self.clock()
            if latest is not None:
                state["last_event_at"] = latest
            if self.metrics is not None:
                self.metrics.observe_lines(source.name, len(batch.lines))
                self.metrics.observe_ingest(ingestor.summary)
        if batch.finished:
            self.sources.remove(source)
            log.info("source %s finished", source.name)
        return bool(batch.lines)

    def ingest_loop(self) -> None:
        last_flush = time.monotonic()
        while not self.stop.is_set():
            busy = False
            for source in list(self.sources):
                busy |= self._poll(source)
            if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                try:
                    self.runtime.ingestor.flush()
                except StoreError as exc:
                    log.error("%s; the batch is kept and retried", exc)
                last_flush = time.monotonic()
            if self._had_sources and not self.sources and not self.stop.is_set():
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
        # Ingest attributes events to the inventory's services, detection groups over it.
        self.scheduler.add_job(
            self.reload_inventory, "interval", seconds=RELOAD_EVERY_S, id="reload"
        )
        if self.status_path is not None or self.all_sources:
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
            len(self.sources),
            extra={"role": self.role.value},
        )
        if self.role.detects:
            with self._tick_lock:
                self.lead()  # before the first tick, so the leader drains the outbox at once
        self.start_scheduler()
        try:
            self.ingest_loop()
        finally:
            self.scheduler.shutdown(wait=True)  # lets a running tick finish
            self.tick()  # evaluate what the last flush completed (the leader only)
            self.leader.release()
            for source in self.all_sources:  # journalctl / ssh children must not outlive us
                source.close()
            self.stopped = True
            self.write_status()


#: The signals that stop the daemon cleanly.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set `stop`; returns a function that restores the previous
    handlers.

    The Python-level handler does nothing: it runs on the main thread between two
    bytecodes, possibly while that thread holds `stop`'s own lock (inside
    `Event.wait`) or while a first signal's handler is inside `stop.set()`, and
    taking the lock again there deadlocks (seen when systemd and a shell both sent
    SIGTERM). Instead the C-level handler writes the signal number to a pipe
    (`signal.set_wakeup_fd`) and a watcher thread logs it and sets `stop`.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {sig: signal.signal(sig, _ignore_in_python) for sig in STOP_SIGNALS}

    def watch() -> None:
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                data = b""
            if not data:  # `restore` closed the write end
                os.close(read_fd)
                return
            for signum in data:
                if signum in STOP_SIGNALS:
                    log.info("received %s; finishing the current tick", signal.Signals(signum).name)
                    stop.set()

    threading.Thread(target=watch, name="signals", daemon=True).start()

    def restore() -> None:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)  # the watcher reads EOF, closes its end and ends

    return restore


def _ignore_in_python(signum: int, frame: Any) -> None:
    """The wakeup fd carries the signal; see `install_signal_handlers`."""


def _fresh_state() -> dict[str, Any]:
    return {"lines": 0, "last_lines_at": None, "last_event_at": None, "error": None}




def _title(change: Any) -> str:
    incident = getattr(change, "incident", None)
    return getattr(incident, "title", str(change))
