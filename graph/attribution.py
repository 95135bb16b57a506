"""Which declared service a log event belongs to.

`attribute(event, inventory)` applies the services' `match` rules to the event's
container, systemd unit and syslog identifier, in that order (the most specific
first), among the services that run on the event's host. An event that matches
nothing keeps the reader's guess (`event.service`, usually the identifier).

A kernel OOM-killer line is about its victim, not about the kernel:
`Out of memory: Killed process 2811 (postgres)` (and the older wording `Out of
memory: Kill process 2811 (postgres) score 954 or sacrifice child`) goes to the
service that runs `postgres` on that host. A victim that no service claims is
attributed to its process name, like any unmatched event. So is the kernel's report of
a process killed by a fault: `nginx[2211]: segfault at 0 ip ... sp ... error 4 in
...` and `traps: php-fpm[811] general protection fault ip:...` go to the service that
runs `nginx` or `php-fpm`, the program that crashed.

Upstart's reports of a job's process ending badly (`mysql main process (1234)
killed by SEGV signal`, `... terminated with status 1`, `mysql respawning too fast,
stopped`, tagged `init`, or `kernel` with `init: ` in front, since Upstart writes
to the kernel's log buffer) likewise go to the job's service, else its name.

Likewise a line in which systemd reports a unit failing is about that unit, not
about systemd: `cyrus-imapd.service: Failed with result 'exit-code'.`, `Start
request repeated too quickly`, `Main process exited, code=exited, status=78`,
the older `Unit cyrus-imapd.service entered failed state.`, or journald's
`Failed to start ...` whose `UNIT=` field names it, go to the service that
declares the unit, else to the unit's name (`cyrus-imapd`): with or without an
inventory, the unit that failed is the subject. So is the unit systemd-oomd (the
userspace OOM killer) says it killed: `Killed /user.slice/.../app-x.scope due to
memory pressure for ...`, and PID 1's `app-x.scope: systemd-oomd killed 19
process(es) in this unit.`. systemd's other lines stay with
systemd.

The rules are compiled once per inventory into dictionaries (globs are tried
after exact names) because this runs on every event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.inventory import Inventory
    from logvigil.core.events import LogEvent

#: The kernel truncates process names (`comm`) to 15 characters.
COMM_LEN = 15

# "Out of memory: Killed process 2811 (postgres) total-vm:..." and the cgroup variant
# "Memory cgroup out of memory: Killed process 2811 (postgres) ...";
# "oom_reaper: reaped process 2811 (postgres), now anon-rss:0kB, ..."
# The kernels before 4.19 (oom_kill.c) first wrote
# "Out of memory: Kill process 2811 (postgres) score 954 or sacrifice child".
_OOM_KILLED = re.compile(r"(?:Killed|Kill|reaped) process (\d+) \((.+?)\)")
# "oom-kill:constraint=...,task_memcg=/system.slice/postgresql@15-main.service,
#  task=postgres,pid=2811,uid=113" (one line)
_OOM_KILL_SUMMARY = re.compile(r"oom-kill:.*?\btask=(?P<task>[^,]+),pid=(?P<pid>\d+)")
_TASK_MEMCG = re.compile(r"\btask_memcg=(?P<cg>[^,\s]+)")

# systemd-oomd (src/oom/oomd-util.c) names the cgroup it killed, the unit last:
# "Killed /user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope due to
# memory pressure for ..." or "... due to swap used (...)".
_OOMD_KILLED = re.compile(r"Killed (?P<cg>/\S*) due to (?:memory pressure for|swap used)")

# The kernel's report of a user process killed by a fault, its name (`comm`, at most
# 15 characters, spaces allowed: "Web Content") and pid first. arch/x86/mm/fault.c
# (show_signal_msg): "%s[%d]: segfault at %lx ip %px sp %px error %lx" ("rip"/"eip"
# on x86_64/i386 kernels of 2.6.18, RHEL 5's);
# arch/x86/kernel/traps.c: "%s[%d] general protection ip:%lx sp:%lx error:%lx" and
# "%s[%d] trap %s ip:..." (2.6), "traps: " in front since pr_fmt (3.x), and "general
# protection fault" since 5.x. `FAULT_WORDS`: what follows `comm[pid]` (the segfault
# primitive reads the same words in a template, whose pid is masked). The uptime in
# front is a field by now, unless a reader left it.
FAULT_WORDS = r"(?:: segfault at \S+ [er]?ip | (?:general protection(?: fault)?|trap \S.*?) ip:)"
_FAULT_KILLED = re.compile(
    r"(?:\[\s*\d+\.\d+\]\s*)?(?:traps: )?(?P<comm>.{1,15}?)\[(?P<pid>\d+)\]" + FAULT_WORDS
)
_OOMD = frozenset({"systemd-oomd"})

_IDENTIFIER_FIELDS = ("SYSLOG_IDENTIFIER",)
_UNIT_FIELDS = ("_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT")
# journald puts the unit a systemd message is *about* in UNIT / USER_UNIT
# (`_SYSTEMD_UNIT` is then init.scope); tried after the identifier.
_ABOUT_UNIT_FIELDS = ("UNIT", "USER_UNIT")
_CONTAINER_FIELDS = ("CONTAINER_NAME", "container_name", "container")

# systemd (src/core/unit.c, service.c) about a unit that failed, the unit first:
# "cyrus-imapd.service: Failed with result 'exit-code'." (since v236), "...: Failed to
# execute command", "...: Start request repeated too quickly.", "...: Main process
# exited, code=exited, status=78/CONFIG", "...: Scheduled restart job, restart counter
# is at 5."; and the older "Unit cyrus-imapd.service entered failed state.",
# "cyrus-imapd.service failed.", "cyrus-imapd.service holdoff time over, scheduling
# restart.". An exit with status 0 is not a failure.
_UNIT = r"[^\s/:'\"]+\.(?:service|socket|mount|automount|swap|timer|path|scope|slice)"
_FAILURE = (
    r"Failed (?:with result|at step|to (?:start|execute|run|spawn))"
    r"|Start request repeated too quickly|Scheduled restart job|systemd-oomd killed"
    r"|(?:Main|Control) process exited, code=(?:killed|dumped|exited, status=(?!0\b))"
)
_UNIT_FAILURE = re.compile(
    rf"^(?:(?P<a>{_UNIT}): (?:{_FAILURE})|Unit (?P<b>{_UNIT}) entered failed state"
    rf"|(?P<c>{_UNIT}) (?:failed\.|holdoff time over))"
)
# journald names the unit in UNIT= for "Failed to start Cyrus IMAP/POP3 daemon."
_FAILURE_WORDS = re.compile(rf"^(?:{_FAILURE})|\bentered failed state\b")
_SYSTEMD = frozenset({"systemd"})
# Upstart (Ubuntu 9.10 to 14.10, RHEL 6; init/job_process.c and job.c) about a job
# whose process ended badly, the job first (an instance in brackets): "mysql main
# process (1234) killed by SEGV signal", "... terminated with status 1", "mysql
# respawning too fast, stopped". Upstart writes to the kernel's log buffer
# (logger_kmsg, "init: ..."), so a syslog file shows them under `kernel` or `init`.
_UPSTART_JOB = re.compile(
    r"(?P<job>[\w.@+-]+)(?: \([^)]*\))? (?:[a-z-]+ process \(\d+\) (?:killed by|terminated with)"
    r"|respawning too fast, stopped)"
)
_UPSTART = frozenset({"init"})
_UPSTART_PREFIX = "init: "


@dataclass(frozen=True, slots=True)
class Victim:
    """The process a kernel line names as killed: by the OOM killer, or by a fault."""

    pid: int
    process: str
    unit: str | None = None


def oom_victim(event: LogEvent) -> Victim | None:
    """The victim of a kernel OOM-killer line, or None for any other event."""
    return _oom_victim(event.message) if _is_kernel(event) else None


def fault_victim(event: LogEvent) -> Victim | None:
    """The process a kernel line reports killed by a fault (a segfault, a general
    protection fault, a trap), or None for any other event."""
    return _fault_victim(event.message) if _is_kernel(event) else None


def _oom_victim(message: str) -> Victim | None:
    # Each pattern holds a literal that a firewall's kernel lines lack, tested first
    # (1.2 -> 0.2 us a kernel line of a UFW log).
    m = _OOM_KILLED.search(message) if " process " in message else None
    if m:
        return Victim(int(m.group(1)), m.group(2))
    m = _OOM_KILL_SUMMARY.search(message) if "oom-kill:" in message else None
    if m:
        cg = _TASK_MEMCG.search(message)
        unit = cg.group("cg").rstrip("/").rsplit("/", 1)[-1] if cg else None
        return Victim(int(m.group("pid")), m.group("task"), unit or None)
    return None


def _fault_victim(message: str) -> Victim | None:
    # Literals a firewall's kernel lines lack, tested first.
    if "segfault at " not in message and " ip:" not in message:
        return None
    m = _FAULT_KILLED.match(message)
    return Victim(int(m.group("pid")), m.group("comm")) if m else None


def failed_unit(event: LogEvent) -> str | None:
    """The unit a systemd line reports failing (`cyrus-imapd.service`), or the one
    systemd-oomd killed, or None."""
    attrs = event.attributes
    if event.service in _OOMD and (m := _OOMD_KILLED.match(event.message)) is not None:
        return m.group("cg").rstrip("/").rsplit("/", 1)[-1] or None
    if event.service not in _SYSTEMD and attrs.get("SYSLOG_IDENTIFIER") not in _SYSTEMD:
        return None
    m = _UNIT_FAILURE.match(event.message)
    if m:
        return m.group("a") or m.group("b") or m.group("c")
    if _FAILURE_WORDS.search(event.message):
        for f in _ABOUT_UNIT_FIELDS:
            value = attrs.get(f)
            if isinstance(value, str) and value:
                return value
    return None


def upstart_job(event: LogEvent) -> str | None:
    """The job an Upstart line reports ending badly (`mysql`), or None."""
    message = event.message
    if event.service in _UPSTART:
        m = _UPSTART_JOB.match(message)
    elif message.startswith(_UPSTART_PREFIX) and _is_kernel(event):
        m = _UPSTART_JOB.match(message, len(_UPSTART_PREFIX))
    else:
        return None
    return m.group("job") if m else None


def unit_name(unit: str) -> str:
    """The service name a unit stands for without an inventory: `cyrus-imapd` for
    `cyrus-imapd.service` (other unit types keep their suffix: `mnt-data.mount`)."""
    return unit.removesuffix(".service") or unit


def _is_kernel(event: LogEvent) -> bool:
    attrs = event.attributes
    return (
        event.service == "kernel"
        or attrs.get("SYSLOG_IDENTIFIER") == "kernel"
        or attrs.get("_TRANSPORT") == "kernel"
    )


@dataclass
class _Table:
    """name -> services (declaration order) for exact values, and (glob, service) pairs."""

    exact: dict[str, list[str]] = field(default_factory=dict)
    globs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, pattern: str, service: str) -> None:
        if _is_glob(pattern):
            self.globs.append((pattern, service))
        else:
            self.exact.setdefault(pattern, []).append(service)

    def lookup(self, value: str, allowed: set[str] | None) -> str | None:
        for service in self.exact.get(value, ()):
            if allowed is None or service in allowed:
                return service
        for pattern, service in self.globs:
            if (allowed is None or service in allowed) and fnmatchcase(value, pattern):
                return service
        return None


class Attributor:
    """Compiled `match` rules of one inventory. Use `attribute` unless you hold many."""

    def __init__(self, inventory: Inventory) -> None:
        self.containers = _Table()
        self.units = _Table()
        self.identifiers = _Table()
        self.comms = _Table()  # identifiers cut to the kernel's 15 characters
        self.on_host: dict[str, set[str]] = {}
        self._memo: dict[tuple, str] = {}
        for name, spec in inventory.services.items():
            match = spec.effective_match(name)
            for c in match.containers:
                self.containers.add(c, name)
            for u in match.units:
                self.units.add(u, name)
                if u.endswith(".service"):
                    self.units.add(u.removesuffix(".service"), name)
            for i in match.identifiers:
                self.identifiers.add(i, name)
                self.comms.add(i[:COMM_LEN] if not _is_glob(i) else i, name)
            for host in inventory.hosts_of(name):
                self.on_host.setdefault(host, set()).add(name)

    def _allowed(self, host: str) -> set[str] | None:
        """Services on `host`; None (all services) for a host the inventory does not declare."""
        if host in self.on_host:
            return self.on_host[host]
        short = host.split(".", 1)[0]
        if short in self.on_host:
            return self.on_host[short]
        return None

    def attribute(self, event: LogEvent) -> str:
        """The service of `event`; memoised on the fields the rules read. The message is
        read first only for kernel lines, which may name a killed process, and systemd's,
        which may name a failed unit; the other kernel lines (most of a firewall's log)
        are memoised like any line."""
        attrs = event.attributes
        if _is_kernel(event):
            victim = _oom_victim(event.message) or _fault_victim(event.message)
            if victim is not None:
                return self._victim_service(victim, event.host)
        else:
            unit = failed_unit(event)
            if unit is not None:
                found = self.units.lookup(unit, self._allowed(event.host))
                return found or unit_name(unit)
        job = upstart_job(event)
        if job is not None:
            return self._job_service(job, event.host)
        key = (
            (event.host, event.service)
            if _KEY_SET.isdisjoint(attrs)  # a syslog line's pid, a JSON line's own fields
            else (event.host, event.service, *map(attrs.get, _KEY_FIELDS))
        )
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            hit = self._memo[key] = self._by_rules(event)
        return hit

    def _victim_service(self, victim: Victim, host: str) -> str:
        """The service that runs a killed process on `host`, else its process name."""
        allowed = self._allowed(host)
        found = None
        if victim.unit:
            found = self.units.lookup(victim.unit, allowed)
        found = found or self.comms.lookup(victim.process, allowed)
        found = found or self.identifiers.lookup(victim.process, allowed)
        return found or victim.process

    def _job_service(self, job: str, host: str) -> str:
        """The service that declares Upstart job `job` (as a unit or an identifier) on
        `host`, else the job's name."""
        allowed = self._allowed(host)
        return self.units.lookup(job, allowed) or self.identifiers.lookup(job, allowed) or job

    def _by_rules(self, event: LogEvent) -> str:
        """The service the `match` rules give `event`: a function of the fields in
        `_KEY_FIELDS`, its host and its service only (what the memo is keyed on)."""
        allowed = self._allowed(event.host)
        attrs = event.attributes
        for fields, table in (
            (_CONTAINER_FIELDS, self.containers),
            (_UNIT_FIELDS, self.units),
        ):
            for f in fields:
                value = attrs.get(f)
                if isinstance(value, str) and value:
                    found = table.lookup(value, allowed)
                    if found:
                        return found
        identifiers = [attrs.get(f) for f in _IDENTIFIER_FIELDS] + [event.service]
        for value in identifiers:
            if isinstance(value, str) and value:
                found = self.identifiers.lookup(value, allowed)
                if found:
                    return found
        for f in _ABOUT_UNIT_FIELDS:
            value = attrs.get(f)
            if isinstance(value, str) and value:
                found = self.units.lookup(value, allowed)
                if found:
                    return found
        comm = attrs.get("_COMM")
        if isinstance(comm, str) and comm:
            found = self.comms.lookup(comm, allowed)
            if found:
                return found
        return event.service


#: Every attribute field the rules read: the memo key of `Attributor.attribute`.
_KEY_FIELDS = (
    *_CONTAINER_FIELDS,
    *_UNIT_FIELDS,
    *_IDENTIFIER_FIELDS,
    *_ABOUT_UNIT_FIELDS,
    "_COMM",
)
#: A line with none of them is keyed on its host and service alone (a shorter key: no
#: longer one can equal it).
_KEY_SET = frozenset(_KEY_FIELDS)
_MEMO_SIZE = 100_000


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


_cache: dict[int, tuple[Inventory, Attributor]] = {}


def attribute(event: LogEvent, inventory: Inventory) -> str:
    """The name of the service `event` belongs to (see the module docstring for the rules)."""
    return attributor_for(inventory).attribute(event)


def attributor_for(inventory: Inventory) -> Attributor:
    """The compiled rules for `inventory`, built once and kept while it is the current one."""
    hit = _cache.get(id(inventory))
    if hit is not None and hit[0] is inventory:
        return hit[1]
    compiled = Attributor(inventory)
    _cache.clear()  # keep one: the daemon has one current inventory at a time
    _cache[id(inventory)] = (inventory, compiled)
    return compiled
