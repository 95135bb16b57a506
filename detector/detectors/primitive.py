"""primitive: catastrophic log patterns that fire at once, without learning.

A primitive is a regular expression matched (case-insensitively, `search`)
against the *template text* of a row (variables already masked to `<*>`), so
a pattern must not rely on a number, a path or a quoted id being present. Each
matches the wording of the program that really writes it, and a primitive whose
wording belongs to one producer is scoped to it (`services`): the kernel's
crash family (panic, Oops, `BUG:`, lockups, hung tasks, machine checks), its
file-system, block-device and network-driver errors and its segfault lines
count only on the kernel's rows, so an init script named `xfs` saying "xfs
shutdown failed" is not a file-system error. Primitives about a process (OOM
kill, disk full, a failed unit) apply to any service, since attribution moves
such a line to its victim or unit. The answer is cached per template id and
scope class (and re-computed when the miner generalises the template's text),
so the cost of a tick depends on the active templates, never on the volume of
raw lines.

`PRIMITIVES` is the built-in library, in priority order: the first primitive
that matches a template wins (`kernel_panic` before `oom_kill`, because "Kernel
panic - not syncing: Out of memory" is a panic). Users add their own through
`PrimitiveConfig.extra` (checked first) and switch built-ins off with
`PrimitiveConfig.disabled`.

Dedup: a primitive fires at most once per (service, host, kind) per
`cooldown_minutes`. State, per service: `{"v", "c": {kind: {host: minute}}}`
holding the minute each (kind, host) last fired, pruned after the cooldown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator, model_validator

from detector.detectors._common import (
    clip,
    from_minute,
    is_minute,
    to_minute,
    versioned,
)
from detector.detectors.base import ActsOnLines, State, StateDraft, Window
from detector.detectors.lifecycle import KERNEL
from logvigil.core.configbase import SeverityName, Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

#: Fields a primitive's summary may use.
SUMMARY_FIELDS = ("service", "host", "template_id", "count", "template", "label")

DEFAULT_SUMMARY = "{service} on {host}: {label} (template #{template_id})"

#: Cached template classifications before the cache is emptied (bounds memory).
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Primitive:
    """One catastrophic pattern.

    `name` is the finding's `kind`; `regex` is searched in template text,
    ignoring case; `label` is the few words a summary uses; `summary` is a
    `str.format` string over `SUMMARY_FIELDS`. `needles` are lowercase
    substrings of which every match of `regex` holds at least one: the regex
    runs only on a text that holds one (Python's `re` is slow on alternations,
    `in` is not). Empty: the regex runs on every text. `services` is the producer
    scope: the services (as attributed) whose lines may be this primitive, None for
    any: "xfs shutdown failed" from the X font server's init script is not the
    kernel's XFS, and only the kernel writes "I/O error, dev sda".
    """

    name: str
    regex: re.Pattern[str]
    severity: Severity
    label: str
    summary: str = DEFAULT_SUMMARY
    needles: tuple[str, ...] = ()
    services: frozenset[str] | None = None

    def scoped_out(self, service: str | None) -> bool:
        """Whether a line of `service` cannot be this primitive because another program
        writes its wording (None: the producer is unknown, nothing is ruled out)."""
        return self.services is not None and service is not None and service not in self.services


def primitive(
    name: str,
    pattern: str,
    severity: Severity,
    label: str,
    *,
    needles: tuple[str, ...] = (),
    summary: str = DEFAULT_SUMMARY,
    services: frozenset[str] | None = None,
) -> Primitive:
    """Build a `Primitive`, compiling `pattern` case-insensitively.

    Raises re.error for an invalid pattern.
    """
    return Primitive(
        name,
        re.compile(pattern, re.IGNORECASE),
        severity,
        label,
        summary,
        tuple(n.lower() for n in needles),
        frozenset(services) if services is not None else None,
    )


_CRIT, _ERR = Severity.CRITICAL, Severity.ERROR
#: The kernel under the identifiers syslog daemons and journald give it.
_K = KERNEL

#: The built-in library, in priority order (first match wins).
PRIMITIVES: tuple[Primitive, ...] = (
    # -- the crash family: the kernel's own words (kernel/panic.c, arch/*/mm/fault.c,
    # kernel/watchdog*.c, kernel/hung_task.c, arch/x86/kernel/cpu/mce) -----------------
    primitive(
        "kernel_panic",
        r"\bkernel panic\b|\bnot syncing\b",
        _CRIT,
        "kernel panic",
        needles=("panic", "not syncing"),
        services=_K,
    ),
    primitive(
        "cpu_lockup",
        r"\bsoft lockup\b|\bhard lockup\b|\bdetected stalls? on cpus\b|\bself-detected stall\b",
        _CRIT,
        "CPU lockup",
        needles=("lockup", "stall"),
        services=_K,
    ),
    primitive(
        "kernel_oops",
        r"\boops: |\bBUG: unable to handle\b|\bBUG: kernel NULL pointer\b|\bkernel BUG at\b"
        r"|\bunable to handle kernel (?:paging request|NULL pointer)"
        r"|^(?:\[[^\]]*\]\s*)?general protection fault: \S+ \[#",
        _CRIT,
        "kernel oops",
        needles=("oops", "bug", "unable to handle", "general protection fault"),
        services=_K,
    ),
    primitive(
        "hung_task",
        r"\btask \S+ blocked for more than \S+ seconds",
        _ERR,
        "hung task",
        needles=("blocked for more than",),
        services=_K,
    ),
    primitive(
        "machine_check",
        r"\bmce: \[hardware error\]|\bmachine check events logged\b|\bmachine check exception\b",
        _ERR,
        "machine check (hardware error)",
        needles=("mce:", "machine check"),
        services=_K,
    ),
    # -- any producer: the victim's line (attributed to it) or the program's own --------
    primitive(
        "oom_kill",
        r"\bout of memory: kill|\binvoked oom-killer\b|\boom-kill\b|killed by the oom killer"
        r"|\bmemory cgroup out of memory\b|\boomkilled\b|\boom_reaper: reaped",
        _CRIT,
        "OOM kill",
        needles=("out of memory", "oom"),
    ),
    primitive(
        # A program that ran out of memory itself, in its runtime's words: the JVM's
        # "java.lang.OutOfMemoryError: Java heap space" (the class name: a command line
        # echoing "-XX:+HeapDumpOnOutOfMemoryError" is no error), Go's "fatal error:
        # runtime: out of memory" (runtime.throw), V8's "FATAL ERROR: Reached heap limit
        # Allocation failed - JavaScript heap out of memory" (Node.js).
        "out_of_memory",
        r"\bjava\.lang\.outofmemoryerror\b|\bruntime: out of memory\b"
        r"|\bjavascript heap out of memory\b",
        _CRIT,
        "out of memory",
        needles=("outofmemoryerror", "out of memory"),
    ),
    primitive(
        "disk_full",
        r"no space left on device|\benospc\b|\b(?:disk|file ?system|partition) (?:is )?full\b"
        r"|disk quota exceeded|could not extend file",
        _CRIT,
        "disk full",
        needles=("no space left", "enospc", "full", "quota exceeded", "could not extend file"),
    ),
    primitive(
        "read_only_fs",
        r"read-only file ?system|remounting (?:file ?system )?read-only|\berofs\b",
        _CRIT,
        "read-only file system",
        needles=("read-only", "erofs"),
    ),
    # -- storage and network, as the kernel's drivers write them --------------------------
    primitive(
        "fs_error",
        r"\b(?:ext[234]|f2fs)-fs (?:error|critical)\b|\bbtrfs(?::)? (?:error|critical)\b"
        r"|\bxfs \([^)]*\): .*(?:corrupt|shut(?:ting)? ?down|metadata i/o error"
        r"|log i/o error|internal error)"
        r'|\bfilesystem "[^"]*": .*(?:corruption|xfs internal error|shutting down filesystem)',
        _CRIT,
        "file system error",
        needles=("-fs ", "btrfs", "xfs", 'filesystem "'),
        services=_K,
    ),
    primitive(
        "io_error",
        r"\bi/o error\b|\binput/output error\b|\bmedium error\b|\bunrecovered read error\b"
        r"|\bblk_update_request: \w+ \w* ?error\b|\bata\S* (?:exception emask|failed command)"
        r"|\bdma_timer_expiry\b|\bdma timeout\b|\btimeout waiting for dma\b"
        r"|\bnvme\S* .*\btimeout, (?:aborting|reset controller)\b"
        r"|\bcontroller is down; will reset\b",
        _CRIT,
        "I/O error",
        needles=(
            "i/o error",
            "input/output error",
            "medium error",
            "unrecovered read error",
            "blk_update_request",
            "exception emask",
            "failed command",
            "dma",
            "timeout, ",
            "controller is down",
        ),
        services=_K,
    ),
    primitive(
        "nic_hang",
        r"\bdetected (?:tx|hardware) unit hang\b|\breset adapter\b"
        r"|\bnetdev watchdog\b.*\btimed out\b|\brtl_\w+_cond == \S+ \(loop:"
        r"|\btransmit timed out\b",
        _CRIT,
        "network adapter hang",
        needles=("unit hang", "reset adapter", "netdev watchdog", "_cond ==", "transmit timed out"),
        services=_K,
    ),
    # -- a disk leaving its array, a disk predicting its failure, a host cooking ---------
    primitive(
        # drivers/md/raid1.c, raid10.c, raid5.c: "md/raid1:md0: Disk failure on sdb1,
        # disabling device." (2.6: "raid1: Disk failure on ..."), an array beyond repair:
        # "md/raid:md0: Cannot continue operation (2/4 failed)."; mdadm --monitor
        # (Monitor.c, at LOG_CRIT): "Fail event detected on md device /dev/md0, component
        # device /dev/sdb1", "DegradedArray event detected on md device /dev/md0" (an
        # array assembled at boot without a dead disk: the kernel logs no error then).
        "raid_degraded",
        r"\bdisk failure on \S+,? disabling device\b|\bcannot continue operation \("
        r"|\b(?:fail|failspare|degradedarray) event detected on md device\b",
        _CRIT,
        "RAID array degraded",
        needles=("disabling device", "cannot continue operation", "event detected on md device"),
        services=_K | {"mdadm"},
    ),
    primitive(
        # smartd (smartmontools, smartd.cpp, all at LOG_CRIT): "Device: /dev/sda [SAT],
        # FAILED SMART self-check. BACK UP DATA NOW!", "... Failed SMART usage Attribute:
        # 5 Reallocated_Sector_Ct.", "... 8 Currently unreadable (pending) sectors",
        # "... 1 Offline uncorrectable sectors", SCSI "... SMART Failure: ...", NVMe
        # "Device: /dev/nvme0, Critical Warning (0x04): Reliability". Not its routine
        # "SMART Usage Attribute: 194 Temperature_Celsius changed from 64 to 63".
        "disk_failing",
        r"\bfailed smart self-check\b|\bfailed smart usage attribute\b"
        r"|\bcurrently unreadable \(pending\) sectors\b|\boffline uncorrectable sectors\b"
        r"|\bsmart failure\b|\bcritical warning \(",
        _ERR,
        "disk failing (SMART)",
        needles=("smart", "unreadable", "uncorrectable", "critical warning"),
        services=frozenset({"smartd"}),
    ),
    primitive(
        # drivers/thermal/thermal_core.c: "thermal thermal_zone0: critical temperature
        # reached (105 C), shutting down" (since 5.12 "...: acpitz: critical temperature
        # reached, shutting down"); drivers/acpi/thermal.c before it: "Critical
        # temperature reached (99 C), shutting down.". The orderly power-off that follows
        # is a clean shutdown: nothing else says why the host went down. Not the CPU's
        # "Core temperature above threshold, cpu clock throttled" (therm_throt.c).
        "overheat",
        r"\bcritical temperature reached\b",
        _CRIT,
        "critical temperature, shut down",
        needles=("critical temperature reached",),
        services=_K,
    ),
    # -- processes ------------------------------------------------------------------------
    primitive(
        "segfault",
        r"\bsegfault at\b|\btraps: .*\b(?:general protection|trap )"
        r"|\bgeneral protection fault\b.*\bip:|\bsegmentation fault\b|\bsigsegv\b",
        _ERR,
        "segfault",
        needles=("segfault", "traps:", "general protection fault", "segmentation fault", "sigsegv"),
        services=_K,
    ),
    primitive(
        # A process's death in the words of whatever saw it, the line's own start where a
        # runtime writes it to stderr as it dies:
        # - Upstart (init/job_process.c), a job's process killed by a fault signal:
        #   "mysql main process (1234) killed by SEGV signal" (not TERM or KILL: a stop);
        # - Go's runtime: an unrecovered panic ("panic: runtime error: invalid memory
        #   address or nil pointer dereference", printpanics) or a fatal error
        #   ("fatal error: concurrent map writes", throw); net/http's recovered
        #   "http: panic serving ..." does not start so;
        # - CPython's Py_FatalError and faulthandler: "Fatal Python error: Segmentation
        #   fault"; HotSpot's error report: "# A fatal error has been detected by the
        #   Java Runtime Environment:";
        # - glibc aborting the process: "*** stack smashing detected ***: terminated",
        #   "*** buffer overflow detected ***", malloc_printerr's "free(): invalid
        #   pointer", "malloc(): corrupted top size", "double free or corruption (out)".
        "process_crashed",
        r"\b[a-z-]+ process \(\S+\) killed by (?:SEGV|ABRT|BUS|ILL|FPE|SYS|TRAP|QUIT) signal\b"
        r"|^panic: |^fatal error: |^fatal python error: "
        r"|\ba fatal error has been detected by the java runtime environment\b"
        r"|^\*\*\* (?:stack smashing|buffer overflow|<\*> <\*>) detected \*\*\*"
        r"|^(?:free|malloc|realloc)\(\): (?:invalid|corrupted|double free|unaligned)"
        r"|^double free or corruption\b",
        _ERR,
        "crashed",
        needles=(
            "killed by",
            "panic: ",
            "fatal error: ",
            "fatal python error",
            "java runtime environment",
            " detected ***",
            "(): ",
            "double free",
        ),
    ),
    primitive(
        "core_dump",
        r"\bdumped core\b|\(core dumped\)|\bsegmentation fault\b",
        _ERR,
        "crashed (core dump)",
        needles=("dumped", "segmentation fault"),
    ),
    primitive(
        "too_many_open_files",
        r"too many open files|\bemfile\b|\bfile-max limit\b",
        _ERR,
        "too many open files",
        needles=("too many open files", "emfile", "file-max limit"),
    ),
    primitive(
        "restart_loop",
        # systemd's, and Upstart's (init/job.c) "mysql respawning too fast, stopped"
        r"start request repeated too quickly|\brespawning too fast, stopped\b",
        _ERR,
        "restart loop, the init system gave up",
        needles=("start request repeated too quickly", "respawning too fast"),
    ),
    primitive(
        "unit_failed",
        r"\bfailed with result\b|\bentered failed state\b",
        _ERR,
        "unit failed",
        needles=("failed with result", "entered failed state"),
    ),
    primitive(
        "cert_expired",
        r"certificate (?:has )?expired|\bcert(?:ificate)?_has_expired\b"
        r"|\bcertificate is expired\b|alert certificate expired",
        _ERR,
        "certificate expired",
        needles=("expired",),
    ),
)


class PrimitiveSpec(Strict):
    """A user-defined primitive, as written in the config."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    pattern: Annotated[str, Field(min_length=1)]
    severity: SeverityName = Severity.ERROR
    label: str = ""
    summary: str = DEFAULT_SUMMARY
    #: Lowercase substrings of which every match holds one (a speed-up; optional).
    needles: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    #: The services whose lines it applies to (`[kernel]`); empty: any service.
    services: tuple[Annotated[str, Field(min_length=1)], ...] = ()

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v, re.IGNORECASE)
        except re.error as e:
            raise ValueError(f"pattern is not a valid regular expression: {e}") from None
        if re.compile(v, re.IGNORECASE).search(""):
            raise ValueError("pattern matches the empty string, so it would match every line")
        return v

    @field_validator("summary")
    @classmethod
    def _formats(cls, v: str) -> str:
        sample = dict.fromkeys(SUMMARY_FIELDS, "x")
        try:
            v.format_map(sample)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f"summary may only use {{{'}, {'.join(SUMMARY_FIELDS)}}}, got an error: {e!r}"
            ) from None
        return v

    def build(self) -> Primitive:
        return primitive(
            self.name,
            self.pattern,
            self.severity,
            self.label or self.name,
            needles=self.needles,
            summary=self.summary,
            services=frozenset(self.services) if self.services else None,
        )


class PrimitiveConfig(Strict):
    """Knobs of `primitive`."""

    enabled: bool = True
    #: A (service, host, kind) fires at most once per this many minutes.
    cooldown_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 10
    #: Names of built-in primitives to switch off.
    disabled: tuple[str, ...] = ()
    #: User primitives, matched before the built-ins; one named like a built-in
    #: replaces it.
    extra: tuple[PrimitiveSpec, ...] = ()

    @field_validator("disabled")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        known = {p.name for p in PRIMITIVES}
        unknown = sorted(set(v) - known)
        if unknown:
            raise ValueError(f"disabled names unknown primitives {unknown}; known: {sorted(known)}")
        return v

    @model_validator(mode="after")
    def _unique(self) -> PrimitiveConfig:
        names = [s.name for s in self.extra]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"extra: primitive names must be unique, repeated: {dup}")
        return self

    def library(self) -> tuple[Primitive, ...]:
        """The primitives in force, in priority order: the extras, then the built-ins
        neither disabled nor replaced by an extra of their name (a kind has one
        pattern, one label and one summary)."""
        extra = tuple(s.build() for s in self.extra)
        off = set(self.disabled) | {p.name for p in extra}
        return extra + tuple(p for p in PRIMITIVES if p.name not in off)


def classify(
    text: str, library: Sequence[Primitive] = PRIMITIVES, service: str | None = None
) -> Primitive | None:
    """Return the first primitive of `library` whose regex is found in `text` and whose
    scope admits `service` (None: a producer not known, every scope admits it), or None."""
    low = text.lower()
    for p in library:
        if p.scoped_out(service):
            continue
        if p.needles and not any(n in low for n in p.needles):
            continue
        if p.regex.search(text):
            return p
    return None


class PrimitiveDetector(ActsOnLines):
    """Fires at once on a catastrophic template (OOM kill, disk full, ...)."""

    config_model: ClassVar[type[Strict]] = PrimitiveConfig
    name: ClassVar[str] = "primitive"
    state_version: ClassVar[int] = 1

    def __init__(self, config: PrimitiveConfig | None = None) -> None:
        self.config = config if config is not None else PrimitiveConfig()
        self.library = self.config.library()
        # The common case, no primitive, is rejected by substring tests alone;
        # a primitive without needles makes every text go through `classify`.
        self._needles: tuple[str, ...] | None = (
            tuple(sorted({n for p in self.library for n in p.needles}))
            if all(p.needles for p in self.library)
            else None
        )
        #: The distinct producer scopes of the library: a service is known by which of
        #: them admit it, so the cache holds one entry per template and scope class.
        self._scopes: tuple[frozenset[str], ...] = tuple(
            sorted({p.services for p in self.library if p.services is not None}, key=sorted)
        )
        self._scope_of: dict[str, tuple[bool, ...]] = {}
        #: (template id, scope class) -> (the text it was classified from, the primitive)
        self._cache: dict[tuple[int, tuple[bool, ...] | None], tuple[str, Primitive | None]] = {}

    def _scope_class(self, service: str | None) -> tuple[bool, ...] | None:
        if service is None:
            return None
        hit = self._scope_of.get(service)
        if hit is None:
            if len(self._scope_of) >= _CACHE_LIMIT:
                self._scope_of.clear()
            hit = self._scope_of[service] = tuple(service in s for s in self._scopes)
        return hit

    def kind_of(self, template_id: int, text: str, service: str | None = None) -> Primitive | None:
        """Return the primitive of a template logged by `service` (None: any producer),
        cached per id, scope class and text."""
        key = (template_id, self._scope_class(service))
        hit = self._cache.get(key)
        if hit is not None and hit[0] == text:
            return hit[1]
        found = classify(text, self.library, service) if self._may_match(text) else None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = (text, found)
        return found

    def _may_match(self, text: str) -> bool:
        if self._needles is None:
            return True
        low = text.lower()
        return any(n in low for n in self._needles)

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the primitives of `window` and the new state."""
        new_state = StateDraft(state)
        templates = window.templates
        kinds: dict[tuple[int, str], Primitive] = {}
        for tid, svc in {(r.template_id, r.service) for r in window.rows}:
            text = templates.get(tid)
            if text is None:
                continue  # a row whose template text is unknown cannot be matched
            p = self.kind_of(tid, text, svc)
            if p is not None:
                kinds[tid, svc] = p
        if not kinds:
            return [], new_state

        # (service, host, kind) -> minute -> [count, {template id: count}]
        hits: dict[tuple[str, str, str], dict[int, list[Any]]] = {}
        for r in window.rows:
            p = kinds.get((r.template_id, r.service))
            if p is None or r.count <= 0:
                continue
            per_min = hits.setdefault((r.service, r.host, p.name), {})
            minute = to_minute(r.minute)
            cell = per_min.get(minute)
            if cell is None:
                cell = per_min[minute] = [0, {}]
            cell[0] += r.count
            cell[1][r.template_id] = cell[1].get(r.template_id, 0) + r.count

        by_name = {p.name: p for p in self.library}
        cooldown = self.config.cooldown_minutes
        last_minute = to_minute(window.end) - 1
        fired: dict[str, dict[str, dict[str, int]]] = {}
        findings: list[Finding] = []
        for svc, host, kind in sorted(hits):
            if svc not in fired:
                fired[svc] = _load(versioned(state, svc, self.state_version))
            last = fired[svc].setdefault(kind, {})
            for minute in sorted(hits[(svc, host, kind)]):
                before = last.get(host)
                if before is not None and minute - before < cooldown:
                    continue  # within the cooldown (or a minute already evaluated)
                count, tids = hits[(svc, host, kind)][minute]
                last[host] = minute
                findings.append(
                    self._finding(by_name[kind], svc, host, minute, count, tids, window, now)
                )
        for svc, kinds_fired in fired.items():
            pruned = {
                kind: {h: m for h, m in hosts.items() if last_minute - m < cooldown}
                for kind, hosts in kinds_fired.items()
            }
            pruned = {k: v for k, v in pruned.items() if v}
            new_state[svc] = {"v": self.state_version, "c": pruned}
        for svc in fired:
            if new_state[svc] == state.get(svc):
                new_state[svc] = state[svc]  # type: ignore[assignment]
        findings = _credit_the_victim(findings)
        findings.sort(key=lambda f: (f.started_at, f.service or "", f.host or "", f.kind or ""))
        return findings, new_state

    def _finding(
        self,
        p: Primitive,
        svc: str,
        host: str,
        minute: int,
        count: int,
        tids: dict[int, int],
        window: Window,
        now: datetime,
    ) -> Finding:
        top = max(tids.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        values = {
            "service": svc,
            "host": host,
            "template_id": top,
            "count": count,
            "template": clip(window.templates.get(top, "")),
            "label": p.label,
        }
        return Finding(
            detector=self.name,
            at=now,
            started_at=from_minute(minute),
            service=svc,
            host=host,
            severity=p.severity,
            summary=p.summary.format_map(values),
            template_id=top,
            kind=p.name,
            evidence={"count": count, "template_ids": sorted(tids)},
        )


def _load(raw: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    """Return a copy of the last-fired minutes in `raw`, dropping anything malformed."""
    out: dict[str, dict[str, int]] = {}
    c = raw.get("c") if raw is not None else None
    if not isinstance(c, Mapping):
        return out
    for kind, hosts in c.items():
        if isinstance(kind, str) and isinstance(hosts, Mapping):
            good = {h: m for h, m in hosts.items() if isinstance(h, str) and is_minute(m)}
            if good:
                out[kind] = good
    return out


#: Services that log on behalf of others (the kernel's "postgres invoked oom-killer",
#: systemd's "A process of this unit has been killed"): their primitives are about a
#: victim. The investigation's analysis uses the same set.
MESSENGERS = frozenset({"kernel", "systemd", "init"})

#: Who reports on others' behalf or supervises them: never "affected" when one of their
#: units (or processes) fails; they only wrote the line. The kernel and init/systemd
#: (`MESSENGERS`), and the other process supervisors.
SUPERVISORS = MESSENGERS | frozenset(
    {
        "systemd",
        "init",
        "upstart",
        "openrc",
        "supervisord",
        "supervisor",
        "runit",
        "runsv",
        "runsvdir",
        "s6-svscan",
        "s6-supervise",
        "launchd",
    }
)


def _credit_the_victim(findings: list[Finding]) -> list[Finding]:
    """Drop a messenger's finding when the same host has the same primitive for a real
    service in this window: one OOM kill is one finding, about its victim."""
    named = {(f.host, f.kind) for f in findings if f.service not in MESSENGERS}
    return [f for f in findings if f.service not in MESSENGERS or (f.host, f.kind) not in named]
