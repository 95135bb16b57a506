"""`IncidentManager`: findings in, incident changes out, state in SQL.

One `process(findings, now)` per tick, in one transaction:

1. open incidents and active cooldowns are loaded and `plan_grouping`
   decides each finding's fate;
2. incidents quiet for `resolve_after_quiet_minutes` resolve, those in a storm
   (`storm.storms`) only after `storm_quiet_minutes` (a claim, so a
   concurrent status change wins cleanly), unless a finding of this tick that
   began before their quiet period ended joins them; when any resolved, the
   findings are decided again without them;
3. new incidents are written with their findings; incidents that gained
   findings get their root, blast radius, severity, title and bundle recomputed;
   a primitive that fired again is recorded on its stored finding
   (`firings`, `last_fired_at`), which is how a storm is recognised.

If a concurrent writer resolves an incident between the read and the write,
the transaction is rolled back and the whole step is retried on fresh state
(`MAX_ATTEMPTS`), so no finding is lost and none is attached to a resolved incident.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, Engine

from detector.incidents import repository as repo
from detector.incidents.bundle import build_bundle
from detector.incidents.context import ContextBundle
from detector.incidents.grouping import GroupingPlan, finding_hosts, plan_grouping
from detector.incidents.model import Incident, IncidentConfig, IncidentStatus
from detector.incidents.root import RootRanking, rank_roots
from detector.incidents.storm import fold_repeats, storms
from detector.incidents.summary import incident_severity, incident_title
from detector.incidents.topology import Topology
from logvigil.core.findings import Finding

log = logging.getLogger(__name__)

#: Tries of one `process` step when a concurrent writer changed an incident under it.
MAX_ATTEMPTS = 3


class IncidentNotFound(LookupError):
    def __init__(self, incident_id: int) -> None:
        self.incident_id = incident_id
        super().__init__(f"no incident {incident_id}")


class IncidentConflict(RuntimeError):
    """Another worker changed the incident first; re-read it and decide again."""


class ChangeKind(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class IncidentChange:
    """What `process` did to one incident. `added`: the findings it gained in this step."""

    kind: ChangeKind
    incident: Incident
    added: tuple[Finding, ...] = ()


class _Retry(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Analysis:
    ranking: RootRanking
    title: str
    severity: int
    services: tuple[str, ...]
    hosts: tuple[str, ...]


class IncidentManager:
    """Groups findings into incidents and keeps their lifecycle, on any of the three backends."""

    def __init__(
        self, engine: Engine, topology: Topology, config: IncidentConfig | None = None
    ) -> None:
        self.engine = engine
        self.topology = topology
        self.config = config or IncidentConfig()
        #: Decisions of the last `process` call (suppressed findings, repeats), for metrics.
        self.last_plan: GroupingPlan | None = None
        #: Incident id -> (its findings, their quiet period): the period is asked for
        #: every unresolved incident at every step and changes only with the findings.
        self._quiet_periods: dict[int, tuple[tuple[Finding, ...], timedelta]] = {}
        #: When the first unresolved incident may resolve, as of the last `process`
        #: (`_quiet_known` False: unknown, read it again).
        self._quiet_due: datetime | None = None
        self._quiet_known = False
        #: The only writer of its incidents (a replay): keep the unresolved incidents in
        #: memory between ticks instead of reading them every tick. Whoever else changes
        #: an incident (an investigation's claims) calls `forget_cached`.
        self.sole_writer = False
        self._active: list[Incident] | None = None
        self._cooldown_rows: list[repo.CooldownRow] | None = None
        #: A sole writer's repeats not yet written: incident id -> (the incident after
        #: them, the keys of its findings that fired again). Written by the next step
        #: that does more than repeat, or by `write_pending`.
        self._unwritten: dict[int, tuple[Incident, set[str]]] = {}
        #: Called before a step that may read lines from the store (a bundle's samples
        #: and counts), outside its transaction: a replay writes its batch of lines then.
        self.settle: Callable[[], None] | None = None

    # -- the tick ----------------------------------------------------------------------------

    def process(self, findings: Sequence[Finding], now: datetime) -> list[IncidentChange]:
        """Resolve quiet incidents, then group `findings`; returns what changed, in order.

        Raises IncidentConflict if concurrent writers kept changing incidents
        for `MAX_ATTEMPTS` tries; store and graph errors propagate.
        """
        if self.idle(findings, now):
            return []
        planned = None
        if self.settle is not None:
            reads, planned = self._may_read_lines(findings, now)
            if reads:
                self.settle()
            elif planned is not None and not planned.suppressed():
                return self._repeat_in_memory(planned, now)
        for _ in range(MAX_ATTEMPTS):
            self._quiet_known = False
            cached, self._active = self._active, None
            try:
                with self.engine.begin() as conn:
                    changes, active = self._process(conn, findings, now, cached, planned)
                self._settled(active)  # committed
                return changes
            except _Retry:
                log.info("an incident changed under the tick; retrying on fresh state")
                planned = None  # decided on the incidents that changed
            except BaseException:
                self._cooldown_rows = None  # read in a transaction that was rolled back
                raise
        raise IncidentConflict("incidents kept changing concurrently; findings not grouped")

    def _may_read_lines(
        self, findings: Sequence[Finding], now: datetime
    ) -> tuple[bool, GroupingPlan | None]:
        """Whether this step may build a bundle: a finding opens or joins an incident,
        or an incident may resolve (which changes the decisions). Only repeats of
        findings already in an incident do not read lines. With the plan it made to
        tell, if it made one: the step's own, for the same incidents (those kept in
        memory), cooldowns (kept too) and findings."""
        active = self._active
        # Kept incidents come with the first end of their quiet periods (`_quiet_due`,
        # set with them in `process`): one of them may resolve once it is past.
        if active is None or (self._quiet_due is not None and self._quiet_due <= now):
            return True, None
        if not findings:
            return False, None
        rows = self._cooldown_rows
        if rows is None:
            with self.engine.connect() as conn:
                rows = self._rows(conn, now)
        plan = self._grouping(rows, active, findings, now)
        return bool(plan.new_groups or plan.joins), plan if self.sole_writer else None

    def _repeat_in_memory(self, plan: GroupingPlan, now: datetime) -> list[IncidentChange]:
        """A sole writer's step whose findings all repeat in the incidents it keeps, none
        of which may resolve yet (`_may_read_lines` said so): the step `_process` would
        make, without a transaction. The repeats are written by the next step that
        reads or claims incidents (`_unwritten`). Nothing changes that a report names."""
        assert self._active is not None
        by_id = {inc.id: inc for inc in self._active}
        for incident_id in sorted(plan.touched):
            by_id[incident_id] = self._repeated(None, by_id[incident_id], plan)
        self.last_plan = plan
        self._settled(_oldest_first(by_id.values()))
        return []

    def _settled(self, active: list[Incident]) -> None:
        """After a step: when the first of the unresolved incidents `active` may resolve,
        and, for a sole writer, the incidents themselves for the next step."""
        self._quiet_due, self._quiet_known = self._first_quiet_end(active), True
        if self.sole_writer:
            self._active = active

    def _first_quiet_end(self, active: Iterable[Incident]) -> datetime | None:
        """When the first of `active` has been quiet long enough to resolve."""
        return min((i.last_finding_at + self.quiet_period(i) for i in active), default=None)

    def idle(self, findings: Sequence[Finding], now: datetime) -> bool:
        """True when `process(findings, now)` would change nothing without reading the
        store: nothing found and no incident's quiet period over. (Another process
        only ever makes an incident's quiet period end later.)"""
        return (
            not findings
            and self._quiet_known
            and (self._quiet_due is None or now < self._quiet_due)
        )

    def _process(
        self,
        conn: Connection,
        findings: Sequence[Finding],
        now: datetime,
        cached: list[Incident] | None = None,
        planned: GroupingPlan | None = None,
    ) -> tuple[list[IncidentChange], list[Incident]]:
        """What changed, and the unresolved incidents after it, oldest first (as
        `repo.load_active` would read them). `cached`: the unresolved incidents as the
        last step left them, when nobody else may have changed them since; `planned`:
        the plan `_may_read_lines` made of them for this step."""
        active = cached if cached is not None else repo.load_active(conn)
        if not findings and not active:
            return [], []
        if planned is not None and cached is not None:
            plan = planned
        else:
            plan = self._plan(conn, active, findings, now)
        due = [inc for inc in active if inc.last_finding_at <= now - self.quiet_period(inc)]
        if due or plan.new_groups or plan.joins or plan.suppressed():
            self._write_repeats(conn)  # what follows reads or claims the stored incidents
        changes = self._resolve_quiet(
            conn, [inc for inc in due if not self._kept_alive(inc, plan)], now
        )
        if changes:  # decide again without them: their keys may cool down now
            self._cooldown_rows = None
            gone = {c.incident.id for c in changes}
            if cached is not None:
                active = [inc for inc in active if inc.id not in gone]
            else:
                active = repo.load_active(conn)
            plan = self._plan(conn, active, findings, now)
        self.last_plan = plan
        by_id = {inc.id: inc for inc in active}
        for index, group in enumerate(plan.new_groups):
            change = self._open(conn, index, group, plan, now)
            changes.append(change)
            by_id[change.incident.id] = self._kept(conn, change.incident)
        for incident_id in sorted(plan.touched):
            after, change = self._extend(conn, by_id[incident_id], plan, now)
            by_id[incident_id] = after
            if change is not None:
                changes.append(change)
        suppressed = plan.suppressed()
        for finding in suppressed:
            repo.attach_suppressed(conn, finding)  # extends that key's cooldown
            self._cooldown_rows = None
        if suppressed:
            log.debug("%d finding(s) suppressed by cooldown", len(suppressed))
        return changes, _oldest_first(by_id.values())

    def _plan(
        self, conn: Connection, active: Sequence[Incident], findings: Sequence[Finding], now
    ) -> GroupingPlan:
        return self._grouping(self._rows(conn, now), active, findings, now)

    def _rows(self, conn: Connection, now: datetime) -> list[repo.CooldownRow]:
        """The findings whose cooldowns may still run at `now` (kept by a sole writer)."""
        rows = self._cooldown_rows
        if rows is None:
            cooldown = timedelta(minutes=self.config.cooldown_minutes)
            rows = repo.cooldown_rows(conn, now - cooldown) if cooldown > timedelta(0) else []
            if self.sole_writer:  # valid for later ticks until something resolves
                self._cooldown_rows = rows
        return rows

    def _grouping(
        self,
        rows: list[repo.CooldownRow],
        active: Sequence[Incident],
        findings: Sequence[Finding],
        now: datetime,
    ) -> GroupingPlan:
        cfg = self.config
        cooldown = timedelta(minutes=cfg.cooldown_minutes)
        cooldowns = repo.cooldowns_from(
            rows, now, cooldown, episode=timedelta(minutes=cfg.storm_quiet_minutes)
        )
        return plan_grouping(
            active,
            cooldowns,
            findings,
            self.topology,
            now,
            window=timedelta(minutes=cfg.grouping_window_minutes),
            depth=cfg.graph_depth,
            storm_host_kinds=cfg.storm_host_kinds,
        )

    def _kept_alive(self, incident: Incident, plan: GroupingPlan) -> bool:
        """True when a finding of this tick that joins or repeats in `incident` began
        before its quiet period ended. The detectors report a minute or so after the
        evidence: a kill at 09:30:35 after one at 09:00:30 is found on the tick that
        ends a 30-minute quiet period, yet the incident was never 30 minutes quiet."""
        deadline = incident.last_finding_at + self.quiet_period(incident)
        return any(
            d.incident_id == incident.id and d.finding.started_at < deadline for d in plan.decisions
        )

    def _analyse(self, findings: Sequence[Finding]) -> _Analysis:
        ranking = rank_roots(findings, self.topology)
        hosts: set[str] = set()
        for f in findings:
            hosts |= finding_hosts(f, self.topology)
        return _Analysis(
            ranking=ranking,
            title=incident_title(findings, ranking.root, self.config.storm_host_kinds),
            severity=incident_severity(findings, self.config.critical_services),
            services=tuple(sorted({f.service for f in findings if f.service is not None})),
            hosts=tuple(sorted(hosts)),
        )

    def _bundle(
        self, conn: Connection, incident_id: int, a: _Analysis, findings: Sequence[Finding], now
    ) -> ContextBundle:
        return build_bundle(
            conn,
            incident_id=incident_id,
            title=a.title,
            findings=findings,
            ranking=a.ranking,
            topology=self.topology,
            now=now,
            limits=self.config.bundle,
        )

    def _open(
        self,
        conn: Connection,
        index: int,
        group: Sequence[Finding],
        plan: GroupingPlan,
        now: datetime,
    ) -> IncidentChange:
        last = max(d.finding.at for d in plan.decisions if d.new_group == index)
        group, _ = fold_repeats(group, plan.repeats(new_group=index))
        a = self._analyse(group)
        incident = Incident(
            id=0,
            status=IncidentStatus.OPEN,
            severity=a.severity,
            title=a.title,
            opened_at=now,
            updated_at=now,
            last_finding_at=last,
            resolved_at=None,
            services=a.services,
            hosts=a.hosts,
            findings=tuple(group),
            root=a.ranking.root,
            blast_radius=a.ranking.blast_radius,
        )
        incident_id = repo.insert_incident(conn, incident)
        repo.insert_findings(conn, incident_id, group)
        bundle = self._bundle(conn, incident_id, a, group, now)
        repo.update_unresolved(conn, incident_id, {"bundle": bundle.to_json()})
        return IncidentChange(
            ChangeKind.OPENED,
            dataclasses.replace(incident, id=incident_id, bundle=bundle),
            tuple(group),
        )

    def _extend(
        self, conn: Connection, incident: Incident, plan: GroupingPlan, now: datetime
    ) -> tuple[Incident, IncidentChange | None]:
        """The incident as stored after this step, and its change if it gained findings."""
        joined = plan.joins.get(incident.id, ())
        if not joined:
            return self._repeated(conn, incident, plan), None
        last = _last_finding(incident, plan)
        findings, refired = fold_repeats(
            (*incident.findings, *joined), plan.repeats(incident_id=incident.id)
        )
        stored = findings[: len(incident.findings)]
        added = findings[len(incident.findings) :]
        a = self._analyse(findings)
        bundle = self._bundle(conn, incident.id, a, findings, now)
        updated = dataclasses.replace(
            incident,
            severity=a.severity,
            title=a.title,
            updated_at=now,
            last_finding_at=last,
            services=a.services,
            hosts=a.hosts,
            findings=findings,
            root=a.ranking.root,
            blast_radius=a.ranking.blast_radius,
            bundle=bundle,
        )
        values = repo.incident_values(updated)
        for column in ("status", "opened_at", "resolved_at"):
            del values[column]  # never overwrite what a concurrent claim may have changed
        if not repo.update_unresolved(conn, incident.id, values):
            raise _Retry
        self._record_firings(conn, incident.id, stored, refired)
        repo.insert_findings(conn, incident.id, added)
        return self._kept(conn, updated), IncidentChange(ChangeKind.UPDATED, updated, tuple(added))

    def _repeated(
        self, conn: Connection | None, incident: Incident, plan: GroupingPlan
    ) -> Incident:
        """`incident` after this step's findings that repeat in it (none joins it). A sole
        writer keeps it in memory until the next step that reads or claims incidents
        (`_unwritten`; `conn` is not used, and None in `_repeat_in_memory`); any other
        writer writes it now."""
        last = _last_finding(incident, plan)
        stored, refired = fold_repeats(incident.findings, plan.repeats(incident_id=incident.id))
        if last == incident.last_finding_at and not refired:
            return incident
        stored = tuple(repo.as_stored(f) if f.key in refired else f for f in stored)
        after = dataclasses.replace(incident, last_finding_at=last, findings=stored)
        if self.sole_writer:
            keys = self._unwritten.get(incident.id, (after, set()))[1]
            self._unwritten[incident.id] = (after, keys | refired)
        else:
            if conn is None:
                raise ValueError("only a sole writer keeps repeats without a connection")
            self._write_repeat(conn, after, refired)
        return after

    def _kept(self, conn: Connection, incident: Incident) -> Incident:
        """`incident`, just written, as this step's result keeps it: read back exactly as
        `repo.load_active` would give it when a sole writer keeps it between steps,
        as it is otherwise (only its quiet period is asked of it)."""
        if not self.sole_writer:
            return incident
        return repo.load(conn, incident.id) or incident

    def _write_repeat(self, conn: Connection, incident: Incident, refired: Iterable[str]) -> None:
        """Write that `incident` repeated: its last finding time and the firings of its
        findings of the keys `refired`."""
        last = {"last_finding_at": incident.last_finding_at}
        if not repo.update_unresolved(conn, incident.id, last):
            raise _Retry
        self._record_firings(conn, incident.id, incident.findings, frozenset(refired))

    def _write_repeats(self, conn: Connection) -> None:
        unwritten, self._unwritten = self._unwritten, {}
        for incident, refired in unwritten.values():
            self._write_repeat(conn, incident, refired)

    def write_pending(self) -> None:
        """Write the repeats a sole writer has kept in memory (a replay calls it when it
        ends; `get`, `list` and `forget_cached` do first)."""
        if self._unwritten:
            with self.engine.begin() as conn:
                self._write_repeats(conn)

    @staticmethod
    def _record_firings(
        conn: Connection, incident_id: int, stored: Sequence[Finding], refired: frozenset[str]
    ) -> None:
        """Write the firings of stored findings that repeated. Called only after the
        incident's row was updated as unresolved in this transaction, so a concurrent
        resolution either came first (and the step was retried) or waits for it."""
        for f in stored:
            if f.key in refired:
                repo.update_finding_evidence(conn, incident_id, f.key, f.evidence)

    def forget_cached(self) -> None:
        """Read the incidents again at the next tick (another process may have changed
        them: a leader that took over, an investigation's claims)."""
        self.write_pending()
        self._quiet_known = False
        self._active = None
        self._cooldown_rows = None

    def next_due(self) -> datetime | None:
        """When the first unresolved incident's quiet period ends (it may resolve then)."""
        if not self._quiet_known:
            with self.engine.connect() as conn:
                active = repo.load_active(conn)
            self._quiet_due, self._quiet_known = self._first_quiet_end(active), True
        return self._quiet_due

    def quiet_period(self, incident: Incident) -> timedelta:
        """How long `incident` must go without findings to resolve: the storm quiet
        period while one of its primitives is storming, the ordinary one otherwise."""
        known = self._quiet_periods.get(incident.id)
        if known is not None and known[0] is incident.findings:
            return known[1]
        cfg = self.config
        if storms(incident.findings, cfg.storm_host_kinds):
            period = timedelta(minutes=cfg.storm_quiet_minutes)
        else:
            period = timedelta(minutes=cfg.resolve_after_quiet_minutes)
        if len(self._quiet_periods) > 1024:  # resolved incidents' periods, read no more
            self._quiet_periods.clear()
        self._quiet_periods[incident.id] = (incident.findings, period)
        return period

    def _resolve_quiet(
        self, conn: Connection, due: Sequence[Incident], now: datetime
    ) -> list[IncidentChange]:
        """Resolve the quiet incidents of `due`, each by a claim that also checks that
        no finding came in the meantime; returns the changes of those it resolved."""
        changes = []
        for incident in due:
            quiet_since = now - self.quiet_period(incident)
            if incident.last_finding_at > quiet_since:
                continue
            if repo.claim_status(
                conn,
                incident.id,
                incident.status,
                IncidentStatus.RESOLVED,
                now,
                quiet_since=quiet_since,
            ):
                resolved = dataclasses.replace(
                    incident, status=IncidentStatus.RESOLVED, resolved_at=now, updated_at=now
                )
                changes.append(IncidentChange(ChangeKind.RESOLVED, resolved))
        return changes

    # -- reading and the lifecycle -----------------------------------------------------------

    def get(self, incident_id: int) -> Incident | None:
        self.write_pending()
        with self.engine.connect() as conn:
            return repo.load(conn, incident_id)

    def list(self, status: IncidentStatus | None = None, limit: int = 50) -> list[Incident]:
        """The newest `limit` incidents, optionally only those of `status`."""
        self.write_pending()
        with self.engine.connect() as conn:
            return repo.list_incidents(conn, status, limit)

    def claim(
        self, incident_id: int, expected: IncidentStatus, wanted: IncidentStatus, now: datetime
    ) -> bool:
        """Move `incident_id` from `expected` to `wanted`; False if it was not `expected`.

        The way for a worker to take an incident: `claim(id, OPEN, INVESTIGATING, now)`
        succeeds for exactly one of several concurrent callers.
        Raises IllegalTransition for a forbidden transition.
        """
        with self.engine.begin() as conn:
            return repo.claim_status(conn, incident_id, expected, wanted, now)

    def set_status(self, incident_id: int, status: IncidentStatus, now: datetime) -> Incident:
        """Move an incident to `status` from whatever it is now; returns the incident after.

        Raises IncidentNotFound, IllegalTransition (e.g. resolved -> open), or
        IncidentConflict when another worker changed its status in between.
        """
        with self.engine.begin() as conn:
            current = repo.load(conn, incident_id)
            if current is None:
                raise IncidentNotFound(incident_id)
            current.status.check_transition(status)
            if not repo.claim_status(conn, incident_id, current.status, status, now):
                raise IncidentConflict(
                    f"incident {incident_id} changed status concurrently (was {current.status})"
                )
            updated = repo.load(conn, incident_id)
        assert updated is not None
        return updated


def _last_finding(incident: Incident, plan: GroupingPlan) -> datetime:
    """When `incident`'s last finding began, counting this step's that join or repeat."""
    latest = plan.latest_at(incident.id)
    return max(incident.last_finding_at, latest) if latest else incident.last_finding_at


def _oldest_first(incidents: Iterable[Incident]) -> list[Incident]:
    """`incidents` in the order `repo.load_active` reads them."""
    return sorted(incidents, key=lambda i: (i.opened_at, i.id))
