"""unclean_reboot: a host booted again without having stopped cleanly (a crash, a power loss).

A host that stops in order says so before it goes: systemd reaches its Shutdown
target, sysvinit switches to runlevel 0 or 6, the syslog daemon writes its
"exiting on signal 15", a laptop suspends. A host that crashes, hangs or loses
power just stops mid-sentence, and the next thing it logs is a boot. Two rules,
each from what the host itself writes (`lifecycle.phase_of` on each row's service
and template text):

- **(a) journal recovery**: a boot followed within `recovery_within_minutes` by
  a file system replaying its journal ("EXT3-fs: INFO: recovery required on
  readonly filesystem", "EXT4-fs (sda1): recovery complete", ext3/ext4 orphan
  cleanup, "XFS (sda1): Starting recovery"). The kernel writes that only when the
  file system was not unmounted cleanly, so this works on kernel-only logs.
- **(b) no shutdown**: a boot on a host that has shown a program that logs the
  shutdown sequence (`lifecycle.writes_shutdown`: systemd, init/shutdown, the
  syslog daemon; or any program whose stop line the host has logged before),
  whose last lines before the boot hold no orderly stop (a shutdown or suspend
  marker). A marker counts only when the host logged nothing more than
  `shutdown_tail_minutes` after it before the boot: an rsyslog restart days
  earlier does not make a later crash look clean.

A host's first boot in LogVigil's history cannot be judged (nothing to compare
it with) and never fires. Boot markers less than `same_boot_minutes` apart
(the kernel banner, then systemd's first line) are one boot; systemd's "running
in system mode" right after "Reexecuting." is a re-execution, not a boot. Rule
(b) is reported `report_after_minutes` after the boot, so a journal recovery
logged a few seconds after the banner is in the same finding; rule (a) as soon as
the recovery line is seen. One boot fires at most once.

Per-minute counts carry no order inside a minute: the lines of the boot's
minute belong to the new boot, except an orderly-stop marker, which is taken to
come before it (a fast VM may stop and boot within one minute).

The finding is host-level (`service` None, the host named): the whole machine
went down, and everything on it with it. CRITICAL, `kind` `unclean_reboot`,
`template_id` the boot marker's template; summary "combo rebooted at 11:31
without a clean shutdown: last line before it at 04:09, 7 h 22 min earlier (su:
session opened for user <*> by <*>); the kernel replayed the EXT3 journal at boot".

State, per host: `{"v", "t": last minute with a line, "l": what it logged then,
"s": last orderly-stop minute, "w": shutdown writers seen, "b": last boot-marker
minute, "x": last re-execution minute, "p": the boot being judged}`; a host
silent for `forget_after_days` is forgotten.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from detector.detectors._common import (
    clip,
    from_minute,
    is_minute,
    next_after,
    to_minute,
    versioned,
)
from detector.detectors.base import CountRow, ServiceInfo, State, StateDraft, Window
from detector.detectors.lifecycle import KERNEL, Phase, phase_of, reexecutes, writes_shutdown
from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

KIND = "unclean_reboot"
#: Rule names, as the evidence gives them.
FS_RECOVERY = "fs_recovery"
NO_SHUTDOWN = "no_shutdown"
#: Shutdown writers remembered per host (a handful exist; the bound keeps state small).
_MAX_WRITERS = 8
#: Services named in "last lines" before "and N more".
_SHOWN_SERVICES = 3
_LAST_LINE_CHARS = 100
_CACHE_LIMIT = 100_000
#: Minutes after a boot marker in which a stop marker is still the boot's own.
_INITRD_MINUTES = 2
_FS_NAME = re.compile(r"\b(EXT[234]|XFS)\b", re.IGNORECASE)


class UncleanRebootConfig(Strict):
    """Knobs of `unclean_reboot`."""

    enabled: bool = True
    #: A file-system journal recovery this long after a boot proves the stop was unclean.
    recovery_within_minutes: Annotated[int, Field(ge=1, le=120)] = 10
    #: An orderly-stop marker counts when the host logged nothing else more than this
    #: many minutes after it, before the boot.
    shutdown_tail_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 10
    #: Boot markers this close to the previous one belong to the same boot.
    same_boot_minutes: Annotated[int, Field(ge=1, le=60)] = 5
    #: A boot without a shutdown is reported this long after its first marker.
    report_after_minutes: Annotated[int, Field(ge=1, le=60)] = 2
    #: A host silent this long is forgotten: its next boot is judged as a first one.
    forget_after_days: Annotated[float, Field(gt=0, le=3650)] = 90.0

    @model_validator(mode="after")
    def _report_before_recovery_window_ends(self) -> UncleanRebootConfig:
        if self.report_after_minutes > self.recovery_within_minutes:
            raise ValueError(
                "report_after_minutes must be at most recovery_within_minutes "
                f"({self.recovery_within_minutes}), got: {self.report_after_minutes}"
            )
        return self


_Host = dict[str, Any]
_INT_KEYS = ("t", "s", "b", "x")


def _load(raw: Mapping[str, Any] | None) -> _Host | None:
    """A copy of one host's state, or None when it is missing or malformed."""
    if raw is None or not is_minute(raw.get("t")):
        return None
    host: _Host = {"v": raw["v"], "t": raw["t"], "l": raw.get("l", "")}
    if not isinstance(host["l"], str):
        return None
    for k in _INT_KEYS[1:]:
        if k in raw:
            if not is_minute(raw[k]):
                return None
            host[k] = raw[k]
    w = raw.get("w", [])
    if not isinstance(w, list) or not all(isinstance(x, str) for x in w):
        return None
    if w:
        host["w"] = list(w)
    p = raw.get("p")
    if p is not None:
        if not (
            isinstance(p, Mapping)
            and all(is_minute(p.get(k)) for k in ("b", "t"))
            and all(is_minute(p[k]) for k in ("s", "r") if k in p)
            and isinstance(p.get("l", ""), str)
            and isinstance(p.get("rt", ""), str)
            and p.get("u") in (0, 1)
            and (p.get("i") is None or type(p.get("i")) is int)
        ):
            return None
        host["p"] = dict(p)
    return host


class UncleanRebootDetector:
    """Fires when a host boots after a crash or a power loss rather than a shutdown."""

    config_model: ClassVar[type[Strict]] = UncleanRebootConfig
    name: ClassVar[str] = "unclean_reboot"
    state_version: ClassVar[int] = 1

    def __init__(self, config: UncleanRebootConfig | None = None) -> None:
        self.config = config if config is not None else UncleanRebootConfig()
        self._forget = round(self.config.forget_after_days * 24 * 60)
        #: (service, template id) -> (text, phase, re-execution)
        self._cache: dict[tuple[str, int], tuple[str, Phase | None, bool]] = {}
        #: host -> the state object this detector wrote for it last, or read and found
        #: whole: on a later tick, the very same object needs no validation, and a host
        #: without lines, a pending boot or the end of its memory needs no work at all
        #: (a relay of many hosts: a tick's cost follows the hosts that log).
        self._trusted: dict[str, Any] = {}
        #: The state this detector returned last, and of it each host's first window end
        #: at which a tick without its lines has work (`_idle_due`): a tick visits the
        #: hosts that log and those, not every host it knows.
        self._returned: State | None = None
        self._idle: dict[str, int | None] = {}

    def _phase(self, service: str, tid: int, text: str) -> tuple[Phase | None, bool]:
        hit = self._cache.get((service, tid))
        if hit is None or hit[0] != text:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            hit = (text, phase_of(service, text), reexecutes(service, text))
            self._cache[service, tid] = hit
        return hit[1], hit[2]

    def needs_tick(self, window: Window, state: State) -> bool:
        """A line of a host's life (a boot, a stop, a journal recovery, a re-execution) in
        its minute's tick: a boot opens a judgement whose dues (`next_due`) only the state
        after it knows. Other lines move a host's last line and writers, and a pending
        boot is judged by their minutes, whenever they are evaluated."""
        texts = window.templates
        for r in window.rows:
            text = texts.get(r.template_id)
            if text is not None:
                phase, again = self._phase(r.service, r.template_id, text)
                if phase is not None or again:
                    return True
        return False

    def patience(self, services: Mapping[str, ServiceInfo]) -> int | None:
        return None

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the unclean reboots found up to the end of `window` and the new state."""
        new_state = StateDraft(state)
        end = to_minute(window.end)
        by_host: dict[str, dict[int, list[CountRow]]] = {}
        for r in window.rows:
            if r.count > 0:
                by_host.setdefault(r.host, {}).setdefault(to_minute(r.minute), []).append(r)
        findings: list[Finding] = []
        trusted = self._trusted
        if not (state is self._returned and len(state) == len(self._idle)):
            self._idle = {host: self._idle_due(host, raw) for host, raw in state.items()}
        visit = set(by_host)
        visit.update(host for host, at in self._idle.items() if at is None or at <= end)
        for host in sorted(visit):
            minutes = by_host.get(host, {})
            raw = state.get(host)
            if raw is not None and trusted.get(host) is raw:
                st = _load(raw)
            else:
                st = _load(versioned(state, host, self.state_version))
                if st is not None:
                    trusted[host] = raw
            if st is None and not minutes:
                del new_state[host]  # unreadable or of another version
                continue
            if st is None:
                st = {"v": self.state_version}
            for minute in sorted(minutes):
                if "t" in st and minute <= st["t"]:
                    continue  # already folded in
                self._decide(host, st, minute, now, findings)
                self._fold(st, minute, minutes[minute], window.templates)
                self._decide(host, st, minute + 1, now, findings)
            self._decide(host, st, end, now, findings)
            if end - st["t"] > self._forget:
                new_state.pop(host, None)
            elif st != state.get(host):
                new_state[host] = trusted[host] = st
        findings.sort(key=lambda f: (f.started_at, f.host or ""))
        if len(trusted) > 2 * len(new_state) + 64:  # hosts forgotten since
            self._trusted = {k: v for k, v in trusted.items() if new_state.get(k) is v}
        for host in visit:
            raw = new_state.get(host)
            if raw is None:
                self._idle.pop(host, None)
            else:
                self._idle[host] = self._idle_due(host, raw)
        self._returned = new_state
        return findings, new_state

    def _idle_due(self, host: str, raw: Any) -> int | None:
        """The first window end at which a tick has work for `host` without its lines (a
        trusted host without lines, a pending boot or the end of its memory: loading,
        deciding and comparing it would change nothing): a pending boot at once, else
        when it is forgotten; None when the state is not one this detector wrote or
        validated (visited)."""
        if raw is None or self._trusted.get(host) is not raw:
            return None
        return 0 if "p" in raw else raw["t"] + self._forget + 1

    def next_due(self, state: State, after: datetime) -> datetime | None:
        """When a pending boot is judged (`_decide`) or a host is forgotten."""
        c, low = self.config, to_minute(after)
        due: list[int] = []
        for host, raw in state.items():
            trusted = self._trusted.get(host) is raw
            st = raw if trusted else _load(versioned(state, host, self.state_version))
            if st is None:
                continue
            due.append(st["t"] + self._forget + 1)
            p = st.get("p")
            if p is not None:
                if p["u"]:
                    due.append(p["b"] + c.report_after_minutes)
                due.append(p["b"] + c.recovery_within_minutes + 1)
        return next_after(due, low)

    def _fold(
        self, st: _Host, minute: int, rows: list[CountRow], templates: Mapping[int, str]
    ) -> None:
        """Fold one minute of a host's rows into its state; may open a boot to judge."""
        c = self.config
        boot_tid: int | None = None
        kernel_boot = stop = reexec = False
        recovery: str | None = None
        writers: set[str] = set()
        for r in rows:
            if writes_shutdown(r.service):
                writers.add(r.service)
            text = templates.get(r.template_id)
            if text is None:
                continue
            phase, again = self._phase(r.service, r.template_id, text)
            reexec = reexec or again
            if phase is Phase.BOOT:
                if boot_tid is None or r.service in KERNEL:
                    boot_tid = r.template_id
                kernel_boot = kernel_boot or r.service in KERNEL
            elif phase in (Phase.SHUTDOWN, Phase.SUSPEND):
                stop = True
                if phase is Phase.SHUTDOWN:
                    writers.add(r.service)
            elif phase is Phase.FS_RECOVERY and recovery is None:
                recovery = text
        last_boot = st.get("b")
        since_boot = minute - last_boot if last_boot is not None else None
        in_boot = since_boot is not None and 0 < since_boot <= c.same_boot_minutes
        x = st.get("x")
        reexecuted = reexec or (x is not None and minute - x <= 1)
        booted = False
        if boot_tid is not None and (kernel_boot or not reexecuted):
            booted = True
            if not in_boot and "t" in st:
                self._open(st, minute, boot_tid, stop)
            st["b"] = minute
        p = st.get("p")
        if (
            recovery is not None
            and p is not None
            and "r" not in p
            and minute - p["b"] <= c.recovery_within_minutes
        ):
            p["r"], p["rt"] = minute, clip(recovery, _LAST_LINE_CHARS)
        # A stop marker seconds after a boot (the initrd's journald stopping before the
        # switch to the real root) is part of the boot, not a shutdown.
        if stop and (booted or since_boot is None or not 0 < since_boot <= _INITRD_MINUTES):
            st["s"] = minute
        if reexec:
            st["x"] = minute
        if writers - set(st.get("w", ())):
            st["w"] = sorted(set(st.get("w", ())) | writers)[:_MAX_WRITERS]
        st["t"] = minute
        st["l"] = _describe(rows, templates)

    def _open(self, st: _Host, minute: int, boot_tid: int, stop_now: bool) -> None:
        """Start judging a boot at `minute` on a host that logged before it."""
        last = st["t"]
        stop = minute if stop_now else st.get("s")
        clean = stop is not None and last - stop <= self.config.shutdown_tail_minutes
        p: dict[str, Any] = {
            "b": minute,
            "i": boot_tid,
            "t": last,
            "l": st.get("l", ""),
            "u": int(bool(st.get("w")) and not clean),
        }
        if stop is not None:
            p["s"] = stop
        st["p"] = p

    def _decide(
        self,
        host: str,
        st: _Host,
        current: int,
        now: datetime,
        findings: list[Finding],
    ) -> None:
        """Judge the pending boot knowing every minute before `current`."""
        p = st.get("p")
        if p is None:
            return
        c = self.config
        if "r" in p or (p["u"] and current >= p["b"] + c.report_after_minutes):
            findings.append(self._finding(host, st, p, now))
            del st["p"]
        elif current > p["b"] + c.recovery_within_minutes:
            del st["p"]  # a clean boot, or one without a shutdown writer to judge it by

    def _finding(self, host: str, st: _Host, p: Mapping[str, Any], now: datetime) -> Finding:
        boot, last = from_minute(p["b"]), from_minute(p["t"])
        rules = [r for r, on in ((NO_SHUTDOWN, p["u"]), (FS_RECOVERY, "r" in p)) if on]
        writers = st.get("w", [])
        summary = (
            f"{host} rebooted at {boot:%H:%M} without a clean shutdown: last line before it "
            f"at {_when(last, boot)}, {_gap(p['b'] - p['t'])} earlier ({p['l']})"
        )
        if p["u"]:
            named = [w for w in writers if writes_shutdown(w)]
            summary += "; no shutdown sequence" + (f" from {', '.join(named)}" if named else "")
            summary += " before it"
        if "r" in p:
            fs = _FS_NAME.search(p["rt"])
            name = fs.group(1).upper() if fs else "file-system"
            summary += f"; the kernel replayed the {name} journal at boot"
        evidence: dict[str, Any] = {
            "rules": rules,
            "boot_at": boot.isoformat(),
            "last_line_at": last.isoformat(),
            "last_line": p["l"],
            "shutdown_writers": list(writers),
            "last_orderly_stop_at": from_minute(p["s"]).isoformat() if "s" in p else None,
        }
        if "r" in p:
            evidence["recovery"] = p["rt"]
            evidence["recovery_at"] = from_minute(p["r"]).isoformat()
        return Finding(
            detector=self.name,
            at=now,
            started_at=boot,
            service=None,
            host=host,
            severity=Severity.CRITICAL,
            summary=summary,
            template_id=p.get("i"),
            kind=KIND,
            evidence=evidence,
        )


def _describe(rows: list[CountRow], templates: Mapping[int, str]) -> str:
    """What a host logged in one minute, for "last line before it": the one service's
    busiest template, or the services, busiest first."""
    per_service: dict[str, int] = {}
    for r in rows:
        per_service[r.service] = per_service.get(r.service, 0) + r.count
    names = sorted(per_service, key=lambda s: (-per_service[s], s))
    if len(names) == 1:
        top = min(rows, key=lambda r: (-r.count, r.template_id))
        return f"{names[0]}: {clip(templates.get(top.template_id, '?'), _LAST_LINE_CHARS)}"
    shown = ", ".join(names[:_SHOWN_SERVICES])
    more = len(names) - _SHOWN_SERVICES
    return shown + (f" and {more} more" if more > 0 else "")


def _when(ts: datetime, ref: datetime) -> str:
    """`04:09` on the day of `ref`, else `Jul 27 10:59`."""
    return f"{ts:%H:%M}" if ts.date() == ref.date() else f"{ts:%b} {ts.day} {ts:%H:%M}"


def _gap(minutes: int) -> str:
    """`7 h 22 min`, `45 min`, `3 d 2 h`."""
    d, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if d:
        return f"{d} d {h} h"
    return f"{h} h {m} min" if h else f"{m} min"
