"""Which incident each finding belongs to: a pure decision, given `now`.

`plan_grouping` reads nothing but its arguments and returns one typed
`GroupingDecision` per finding, so the daemon and the backtest decide identically and
a test can state every rule without a database.

The rules:

1. A finding *matches* an active incident when it began no later than the
   grouping window after the incident's last finding, and it shares a host
   with the incident or its service is connected to one of the incident's
   services in the graph (`Topology.connected`, either direction, within
   `graph_depth` hops). A host-level finding (a silent host) stands for the
   services the inventory places on that host.
2. The findings of one call are first clustered among themselves by the same
   relation (overlapping in time, sharing a host or connected), so a cascade
   that arrives in a single tick is one group even when no incident exists.
3. A group that matches active incidents joins the oldest of them (earliest
   `opened_at`, then lowest id). Incidents are never merged: a merge would
   rewrite an incident an operator may already have been notified about, and
   the older incident is the one that most likely holds the root.
4. A group that matches none opens one new incident, unless every finding in
   it is in cooldown: then each is `SUPPRESSED_COOLDOWN`. A finding in
   cooldown cannot open an incident but can join one (its own or a fresh
   trigger's): the cooldown silences a repeat of a resolved trouble, not
   evidence of a new one.
5. A finding whose cooldown key is already in its incident is `REPEATED`: it
   only moves the incident's `last_finding_at` (and, for a primitive, is
   recorded as one more firing of the stored finding, see `storm`), so a
   detector that fires every tick during an outage does not grow the incident.
6. A primitive also matches an active incident that holds its storm key
   (`storm.storm_key`: same host and kind, and for a kind that is not
   host-wide the same service), however long ago that key last fired: the
   incident is still active, so the storm has not been quiet for its quiet
   period yet. An OOM storm that pauses for two hours and then kills another
   process stays one incident; once the incident resolved, the next firing
   opens a new one (subject to the cooldown of its own key only).
7. A finding about the machine's life cycle (`MACHINE_KINDS`: an unclean
   reboot) only goes with findings about the whole machine: host-level ones
   (a silent host), the kernel's, and primitives of a host-wide kind (an OOM
   storm, a disk error). A service's own failure at the same moment (a unit that
   fails to start after the crash) is a problem of its own that needs its own
   fix, so neither joins the other's incident: "vultr rebooted without shutting
   down" and "cyrus-imapd failed" are two pages, each naming its culprit.
8. Two catastrophes of two machines (`catastrophic`: a primitive about a host's
   own resources or its crash: OOM, a full disk, I/O errors, a panic, an unclean
   reboot) go together only on a shared host, never through the graph alone: a
   disk filling up on nas-01 90 s after postgres was OOM-killed on db-01 is not
   caused by it because backup depends on postgres. The graph still gathers the
   symptoms (errors, silences) of the services that depend on a catastrophe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from detector.incidents.model import Incident
from detector.incidents.storm import StormKey, storm_key, storm_keys
from detector.incidents.topology import Topology
from logvigil.core.findings import Finding


class GroupingOutcome(StrEnum):
    OPENED = "opened"
    """Opens a new incident (alone or with the rest of its group)."""
    JOINED = "joined"
    """Joins an active incident as a new finding."""
    REPEATED = "repeated"
    """Its key is already in the incident: only `last_finding_at` moves."""
    SUPPRESSED_COOLDOWN = "suppressed_cooldown"
    """Would open an incident, but its key resolved less than the cooldown ago."""


@dataclass(frozen=True, slots=True)
class GroupingDecision:
    """What happens to one finding.

    `incident_id` is set for a finding that joins or repeats in an existing
    incident; `new_group` (an index into `GroupingPlan.new_groups`) for one
    that opens or repeats in a new incident; `cooldown_until` for a suppressed one.
    """

    finding: Finding
    outcome: GroupingOutcome
    incident_id: int | None = None
    new_group: int | None = None
    cooldown_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupingPlan:
    """Every decision of one call, plus the same grouped for writing.

    `new_groups`: per new incident, its findings (no repeated key), in order.
    `joins`: per existing incident id, the findings it gains (no repeats).
    `touched`: ids of existing incidents that gained or repeated a finding.
    """

    decisions: tuple[GroupingDecision, ...]
    new_groups: tuple[tuple[Finding, ...], ...] = ()
    joins: Mapping[int, tuple[Finding, ...]] = field(default_factory=dict)
    touched: frozenset[int] = frozenset()

    def outcomes(self) -> list[GroupingOutcome]:
        return [d.outcome for d in self.decisions]

    def repeats(
        self, *, incident_id: int | None = None, new_group: int | None = None
    ) -> tuple[Finding, ...]:
        """The `REPEATED` findings of an existing incident or of a new group."""
        return tuple(
            d.finding
            for d in self.decisions
            if d.outcome is GroupingOutcome.REPEATED
            and (
                (incident_id is not None and d.incident_id == incident_id)
                or (new_group is not None and d.new_group == new_group)
            )
        )

    def suppressed(self) -> list[Finding]:
        """The findings a cooldown suppressed (each is recorded on its resolved incident)."""
        return [
            d.finding for d in self.decisions if d.outcome is GroupingOutcome.SUPPRESSED_COOLDOWN
        ]

    def latest_at(self, incident_id: int) -> datetime | None:
        """The latest `at` among findings that joined or repeated in `incident_id`."""
        ats = [d.finding.at for d in self.decisions if d.incident_id == incident_id]
        return max(ats) if ats else None


def finding_hosts(f: Finding, topology: Topology) -> set[str]:
    """The host of a finding, else every host the inventory runs its service on."""
    if f.host is not None:
        return {f.host}
    return topology.hosts_of(f.service) if f.service is not None else set()


def finding_services(f: Finding, topology: Topology) -> set[str]:
    """Its service, or for a host-level finding every service on that host."""
    if f.service is not None:
        return {f.service}
    return topology.services_on(f.host) if f.host is not None else set()


#: Finding kinds about the machine's life cycle (rule 7).
MACHINE_KINDS = frozenset({"unclean_reboot"})
#: The subsystem name the kernel's own lines are attributed to.
KERNEL = "kernel"


def about_machine(f: Finding, host_wide: frozenset[str]) -> bool:
    """Whether `f` is about the whole machine rather than one service of it (rule 7)."""
    return (
        f.service is None
        or f.service == KERNEL
        or (f.kind is not None and (f.kind in MACHINE_KINDS or f.kind in host_wide))
    )


#: Crash-family kinds that are a machine's own trouble (with the host-wide kinds, rule 8).
CRASH_KINDS = frozenset({"kernel_panic", "kernel_oops", "cpu_lockup", "machine_check"})


def catastrophic(f: Finding, host_wide: frozenset[str]) -> bool:
    """Whether `f` is a catastrophe of its own host (rule 8)."""
    kind = f.kind
    return (
        f.host is not None
        and kind is not None
        and (kind in host_wide or kind in MACHINE_KINDS or kind in CRASH_KINDS)
    )


class _Relation:
    """The "belongs together" relation, with hosts and services resolved once per finding."""

    def __init__(
        self, topology: Topology, window: timedelta, depth: int, host_wide: frozenset[str]
    ) -> None:
        self.topology = topology
        self.window = window
        self.depth = depth
        self.host_wide = host_wide
        self._storm_keys: dict[int, frozenset[StormKey]] = {}

    def storm_keys(self, incident: Incident) -> frozenset[StormKey]:
        """The storm keys of an incident's findings (computed once per incident)."""
        keys = self._storm_keys.get(incident.id)
        if keys is None:
            keys = self._storm_keys[incident.id] = storm_keys(incident.findings, self.host_wide)
        return keys

    def hosts(self, findings: Iterable[Finding]) -> set[str]:
        out: set[str] = set()
        for f in findings:
            out |= finding_hosts(f, self.topology)
        return out

    def services(self, findings: Iterable[Finding]) -> set[str]:
        out: set[str] = set()
        for f in findings:
            out |= finding_services(f, self.topology)
        return out

    def linked(
        self, hosts_a: set[str], svcs_a: set[str], hosts_b: set[str], svcs_b: set[str]
    ) -> bool:
        if hosts_a & hosts_b:
            return True
        return any(
            self.topology.connected(a, b, self.depth)
            for a in sorted(svcs_a)
            for b in sorted(svcs_b)
        )

    def compatible(self, f: Finding, g: Finding) -> bool:
        """Rule 7: a life-cycle finding only goes with findings about the whole machine.
        Rule 8: two catastrophes go together only on one host."""
        if f.kind in MACHINE_KINDS and not about_machine(g, self.host_wide):
            return False
        if g.kind in MACHINE_KINDS and not about_machine(f, self.host_wide):
            return False
        wide = self.host_wide
        return not (catastrophic(f, wide) and catastrophic(g, wide) and f.host != g.host)

    def in_time(self, f: Finding, g: Finding) -> bool:
        """Their [started_at, at] spans overlap, allowing the grouping window between them."""
        return f.started_at <= g.at + self.window and g.started_at <= f.at + self.window

    def matches(self, f: Finding, incident: Incident) -> bool:
        if not incident.status.active:
            return False
        key = storm_key(f, self.host_wide)
        if key is not None and key in self.storm_keys(incident):
            return True  # rule 6: its storm is still going on
        if f.started_at > incident.last_finding_at + self.window:
            return False
        together = [g for g in incident.findings if self.compatible(f, g)]
        if len(together) < len(incident.findings):
            # Rule 7: only the findings f may go with speak for the incident.
            hosts, services = self.hosts(together), self.services(together)
        else:
            hosts = set(incident.hosts) | self.hosts(incident.findings)
            services = set(incident.services) | self.services(incident.findings)
        return bool(together) and self.linked(self.hosts([f]), self.services([f]), hosts, services)


def _order(f: Finding) -> tuple:
    return (f.started_at, f.at, f.detector, f.subject, f.key, f.summary)


def plan_grouping(
    active: Sequence[Incident],
    cooldowns: Mapping[str, datetime],
    findings: Sequence[Finding],
    topology: Topology,
    now: datetime,
    *,
    window: timedelta,
    depth: int,
    storm_host_kinds: Iterable[str] = (),
) -> GroupingPlan:
    """Decide, for each of `findings`, whether it joins, repeats, opens or is suppressed.

    `active`: the unresolved incidents. `cooldowns`: cooldown key -> the
    moment its cooldown ends (keys whose end is before `now` are ignored).
    `storm_host_kinds`: the primitive kinds whose storm gathers every service of
    a host (rule 6; `IncidentConfig.storm_host_kinds`).
    Decisions come back in a deterministic order (by `started_at`, then
    detector and subject), whatever the order of `findings`.
    """
    rel = _Relation(topology, window, depth, frozenset(storm_host_kinds))
    ordered = sorted(findings, key=_order)
    n = len(ordered)
    hosts = [rel.hosts([f]) for f in ordered]
    svcs = [rel.services([f]) for f in ordered]

    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if find(i) == find(j):
                continue
            if (
                rel.compatible(ordered[i], ordered[j])
                and rel.in_time(ordered[i], ordered[j])
                and rel.linked(hosts[i], svcs[i], hosts[j], svcs[j])
            ):
                parent[max(find(i), find(j))] = min(find(i), find(j))

    components: dict[int, list[int]] = {}
    for i in range(n):
        components.setdefault(find(i), []).append(i)

    by_age = sorted((inc for inc in active if inc.status.active), key=lambda i: (i.opened_at, i.id))

    def cooled(f: Finding) -> datetime | None:
        until = cooldowns.get(f.key)
        # Inclusive: an hourly job failing again on the same minute is still cooling down.
        return until if until is not None and until >= now else None

    decisions: dict[int, GroupingDecision] = {}
    new_groups: list[list[Finding]] = []
    joins: dict[int, list[Finding]] = {}
    touched: set[int] = set()
    known_keys: dict[int, set[str]] = {inc.id: set(inc.keys) for inc in by_age}

    for root in sorted(components):
        members = components[root]
        target = next(
            (inc for inc in by_age if any(rel.matches(ordered[i], inc) for i in members)), None
        )
        if target is not None:
            keys = known_keys[target.id]
            touched.add(target.id)
            for i in members:
                f = ordered[i]
                if f.key in keys:
                    decisions[i] = GroupingDecision(
                        f, GroupingOutcome.REPEATED, incident_id=target.id
                    )
                else:
                    keys.add(f.key)
                    joins.setdefault(target.id, []).append(f)
                    decisions[i] = GroupingDecision(
                        f, GroupingOutcome.JOINED, incident_id=target.id
                    )
            continue
        if all(cooled(ordered[i]) is not None for i in members):
            for i in members:
                decisions[i] = GroupingDecision(
                    ordered[i],
                    GroupingOutcome.SUPPRESSED_COOLDOWN,
                    cooldown_until=cooled(ordered[i]),
                )
            continue
        group_index = len(new_groups)
        group: list[Finding] = []
        keys = set()
        for i in members:
            f = ordered[i]
            if f.key in keys:
                decisions[i] = GroupingDecision(f, GroupingOutcome.REPEATED, new_group=group_index)
            else:
                keys.add(f.key)
                group.append(f)
                decisions[i] = GroupingDecision(f, GroupingOutcome.OPENED, new_group=group_index)
        new_groups.append(group)

    return GroupingPlan(
        decisions=tuple(decisions[i] for i in range(n)),
        new_groups=tuple(tuple(g) for g in new_groups),
        joins={k: tuple(v) for k, v in joins.items()},
        touched=frozenset(touched),
    )
