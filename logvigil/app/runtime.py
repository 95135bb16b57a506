"""Wiring: the same components for the daemon, `backtest`, `demo` and `eval`.

`Runtime` owns the store engine, the inventory and its graph, the ingestor
(with attribution to the inventory's services), the detectors, the incident
manager and the ticker. The daemon drives it with the wall clock, `backtest`
with the log's own time; neither has code of its own in the detection path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from detector.detectors import build_detectors
from detector.detectors.base import ServiceInfo
from detector.incidents.manager import ChangeKind, IncidentManager
from detector.incidents.topology import GraphTopology
from detector.tick import Ticker, TickResult
from detector.windows import RecentWindows
from graph.attribution import attributor_for
from graph.inventory import Inventory, load_inventory
from graph.store import GraphStore
from investigate.crew import crew_runner as make_crew_runner
from investigate.service import CrewRunner, investigate
from logvigil.app.metrics import DaemonMetrics
from logvigil.app.settings import Settings
from logvigil.ingest.ingestor import Ingestor, load_templates
from logvigil.ingest.noise import NoiseFilter
from logvigil.ingest.recent import RecentCounts
from logvigil.ingest.templates import TemplateMiner
from logvigil.store.ids import TemplateIdBlocks
from logvigil.store.source_health import read_source_health
from migrations.apply import open_engine
from notify.service import maybe_enqueue_digest, on_incident_changes, on_report

log = logging.getLogger(__name__)


def empty_inventory() -> Inventory:
    return Inventory.model_validate({})


def services_of(inventory: Inventory) -> dict[str, ServiceInfo]:
    """What the detectors know of each inventory service (its `expect` as `heartbeat`)."""
    return {
        name: ServiceInfo(
            name=name,
            hosts=tuple(inventory.hosts_of(name)),
            quiet=spec.quiet,
            heartbeat=spec.expect.every if spec.expect is not None else None,
        )
        for name, spec in inventory.services.items()
    }


def read_inventory(path: Path | None) -> Inventory:
    """The inventory at `path`; an absent default file means an empty inventory.

    Raises ConfigError for an invalid file (the caller decides whether that is fatal).
    """
    if path is None or not Path(path).exists():
        if path is not None:
            log.info("no inventory at %s: grouping by host only", path)
        return empty_inventory()
    return load_inventory(path)


class Runtime:
    """Every component of the detection path, built from the settings.

    Raises StoreError / GraphError / ConfigError with readable messages.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        db_url: str | None = None,
        inventory: Inventory | None = None,
        graph: GraphStore | None = None,
        notify: bool = False,
        shared_store: bool = False,
    ) -> None:
        """`notify`: queue notifications for what each tick finds (the daemon does;
        a backtest must not page anyone about the past). `shared_store`: other
        processes may mine templates into the same store, so new template ids
        come from blocks reserved in it (`logvigil.store.ids`)."""
        self.notify = notify
        #: Told how long investigations take (the daemon's metrics, when it serves them).
        self.metrics: DaemonMetrics | None = None
        self.settings = settings
        self.engine: Engine = open_engine(db_url or settings.database_url)
        self.inventory = (
            inventory if inventory is not None else read_inventory(settings.graph.inventory)
        )
        self.graph = graph if graph is not None else GraphStore.temporary()
        self.graph.load(self.inventory)
        self.services: Mapping[str, ServiceInfo] = services_of(self.inventory)
        miner = None
        if shared_store:
            miner = TemplateMiner(
                templates=load_templates(self.engine), next_id=TemplateIdBlocks(self.engine)
            )
        self.ingestor = Ingestor(
            self.engine,
            NoiseFilter.from_config(settings.detector.noise),
            miner=miner,
            attribute=lambda e: attributor_for(self.inventory).attribute(e),
        )
        self.topology = GraphTopology(self.graph, self.inventory)
        self.incidents = IncidentManager(self.engine, self.topology, settings.detector.incidents)
        self._crew_runner: CrewRunner | None = None
        self.ticker = self._new_ticker()

    def _new_ticker(self) -> Ticker:
        return Ticker(
            self.engine,
            build_detectors(self.settings.detector.detectors()),
            incidents=self.incidents,
            services=lambda: self.services,
        )

    def as_sole_writer(self) -> None:
        """This runtime is the only writer of its store (a replay): ticks read their
        windows from what the ingestor counts (`detector.windows`), not from the store,
        and the incident manager keeps the unresolved incidents in memory. The store is
        written when the batch is full and before the incidents need it."""
        recent = RecentCounts.of_store(self.engine)
        with self.engine.connect() as conn:
            sources = read_source_health(conn)
        self.ingestor.recent = recent
        self.ticker.windows = RecentWindows(
            recent, self.ingestor.miner.text_of, lambda: self.services, sources
        )
        self.incidents.settle = self.ingestor.flush  # bundles read the lines
        self.incidents.sole_writer = True

    def reload_detector_state(self) -> None:
        """Read the detectors' state and the last window from the store again: a
        process that takes over detection continues where the previous leader ended."""
        self.incidents.forget_cached()
        self.ticker = self._new_ticker()

    def tick(self, now: datetime) -> TickResult:
        """One detector tick, then an investigation of each incident it opened or grew.

        Deterministic investigations follow every change (they cost milliseconds);
        with a language model configured, the crew runs once, when the incident
        opens (`investigate --incident N --rerun` asks again). A failing
        investigation is logged and never affects detection.
        """
        result = self.ticker.tick(now)
        if self.notify:
            on_incident_changes(self.engine, result.changes, now, self.settings.notify)
        for change in result.changes:
            opened = change.kind is ChangeKind.OPENED
            if opened or (change.kind is ChangeKind.UPDATED and self.crew_runner is None):
                self._investigate(change.incident.id, now, opened=opened)
        if self.notify:
            maybe_enqueue_digest(self.engine, now, self.settings.notify)
        return result

    def _investigate(self, incident_id: int, now: datetime, *, opened: bool) -> None:
        t0 = time.perf_counter()
        try:
            report = investigate(
                self.engine,
                self.topology,
                incident_id,
                incidents=self.settings.detector.incidents,
                crew_runner=self.crew_runner if opened else None,
                now=now,
            )
        except Exception:
            log.exception("investigation of incident %s failed; detection goes on", incident_id)
            return
        finally:
            self.incidents.forget_cached()  # its claims changed the incident's status
            if self.metrics is not None:
                self.metrics.observe_investigation(time.perf_counter() - t0)
        if self.notify:
            on_report(self.engine, incident_id, report, now, self.settings.notify)

    @property
    def crew_runner(self) -> CrewRunner | None:
        """The crew for the configured model, built on first use; None without a model."""
        if self.settings.llm.provider == "none":
            return None
        if self._crew_runner is None:
            self._crew_runner = make_crew_runner(self.settings.llm, self.settings.data_dir)
        return self._crew_runner

    def use_inventory(self, inventory: Inventory) -> None:
        """Switch to a new inventory (already loaded into `graph`): attribution,
        grouping and silence exemptions follow from the next event and tick."""
        self.inventory = inventory
        self.services = services_of(inventory)
        self.topology.use(inventory)

    def close(self) -> None:
        self.ingestor.flush()
        self.incidents.write_pending()
        self.graph.close()
        self.engine.dispose()
