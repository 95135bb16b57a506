"""primitive: catastrophic log patterns that fire at once, without learning.

The patterns are `primitive_library.PRIMITIVES`, matched against each active
template's text; the answer is cached per template id and scope class (and
re-computed when the miner generalises the template's text), so the cost of a
tick depends on the active templates, never on the volume of raw lines. Users add
their own through `PrimitiveConfig.extra` (checked first; one named like a
built-in replaces it) and switch built-ins off with `PrimitiveConfig.disabled`.

Dedup: a primitive fires at most once per (service, host, kind) per
`cooldown_minutes`. State, per service: `{"v", "c": {kind: {host: minute}}}`
holding the minute each (kind, host) last fired, pruned after the cooldown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from detector.detectors.primitive_library import (
    DEFAULT_SUMMARY,
    PRIMITIVES,
    SUMMARY_FIELDS,
    Primitive,
    classify,
    primitive,
)
from logvigil.core.configbase import SeverityName, Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

#: Cached template classifications before the cache is emptied (bounds memory).
_CACHE_LIMIT = 200_000


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
    #: Count only the template's lines of this severity or worse (none: every line).
    min_severity: SeverityName | None = None

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
            min_severity=self.min_severity,
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

    def needs_tick(self, window: Window, state: State) -> bool:
        """A line of a primitive's template that may fire (of its severity, and not within
        the cooldown of its host's last one) in its minute's tick; the other lines of a
        storm are judged by their minutes, whenever they are evaluated."""
        templates = window.templates
        for r in window.rows:
            text = templates.get(r.template_id)
            p = self.kind_of(r.template_id, text, r.service) if text is not None else None
            if p is None or (p.min_severity is not None and r.severity < p.min_severity):
                continue
            before = _load(versioned(state, r.service, self.state_version)).get(p.name, {})
            last = before.get(r.host)
            if last is None or to_minute(r.minute) - last >= self.config.cooldown_minutes:
                return True
        return False

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
            if p.min_severity is not None and r.severity < p.min_severity:
                continue  # a line of the template that is not the catastrophe
            per_min = hits.setdefault((r.service, r.host, p.name), {})
            minute = to_minute(r.minute)
            cell = per_min.get(minute)
            if cell is None:
                cell = per_min[minute] = [0, {}]
            cell[0] += r.count
            cell[1][r.template_id] = cell[1].get(r.template_id, 0) + r.count

        by_name = {p.name: p for p in self.library}
        cooldown = self.config.cooldown_minutes
        fired: dict[str, dict[str, dict[str, int]]] = {}
        latest: dict[str, int] = {}  # a service's last minute with a primitive's line
        findings: list[Finding] = []
        for svc, host, kind in sorted(hits):
            if svc not in fired:
                fired[svc] = _load(versioned(state, svc, self.state_version))
            last = fired[svc].setdefault(kind, {})
            latest[svc] = max(latest.get(svc, 0), *hits[(svc, host, kind)])
            for minute in sorted(hits[(svc, host, kind)]):
                before = last.get(host)
                if before is not None and minute - before < cooldown:
                    continue  # within the cooldown (or a minute already evaluated)
                count, tids = hits[(svc, host, kind)][minute]
                last[host] = minute
                findings.append(
                    self._finding(by_name[kind], svc, host, minute, count, tids, window, now)
                )
        # Pruned as of the service's last line of a primitive (not the window's end), so
        # that lines evaluated later (a replay's ordinary ticks) leave the same state.
        for svc, kinds_fired in fired.items():
            pruned = {
                kind: {h: m for h, m in hosts.items() if latest[svc] - m < cooldown}
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
