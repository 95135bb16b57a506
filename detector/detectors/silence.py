"""silence: a service, or a whole host, stopped logging although its own rhythm says it logs.

**What is learnt.** Per (service, host) pair, and per host over all its lines, a
*rhythm* (`silence_rhythm.py`): the largest gap between minutes with a line, by hour
of day, and the share of hours with a line. A silence is reported only when the
source's rhythm is steady at that time of day and the silence is clearly beyond the
largest gap it has shown there (`gap_factor` times it, and at least
`min_silent_minutes`). Why each default holds on logs we have not seen:

- `min_history_hours = 24`: a day of observation shows every lull of a daily rhythm
  (a quiet night, a nightly job, a nightly suspend that left no marker) at least
  once; a pair seen for less (a daemon that logs only at boot: apport, cloud-init,
  multipathd, udisksd) earns no alert at all.
- `min_bucket_days = 2`: a per-hour reference needs that hour on two days, else
  the whole day's largest gap is the reference (lenient: only around-the-clock
  sources can be silent early).
- `steady_share = 0.8`: active in at least 80% of its observed hours (at that time
  of day, with its neighbours): a service with a rhythm logs in nearly every hour,
  while bursty sources (a workstation's kernel: USB, network, suspend) and boot-only
  daemons are active in a few percent of hours. One missed hour in a week keeps a
  rhythm steady; two days running do not.
- `gap_factor = 2`: the largest of n gaps of a steady source is its tail; twice
  it is far outside anything seen (for memoryless arrivals a gap twice the largest
  of n is about 1/n² as likely, and n is hundreds a day for a source that logs in
  most minutes). Sources with heavier tails are not steady (below). Real outages of
  steady sources are many times their largest gap; one-off slow minutes are not.
  A service that logs in a third of its minutes (largest gap ~11 min) is caught
  in ~23 min.
- `day_gap_factor = 3`: before an hour has its own reference, the whole day's
  largest gap is one day's sample, each hour seen once; a source whose rate falls
  at night (a web app logging every few minutes by day, every ten at 04:00) shows
  longer gaps on its second night than on its first. Three times it holds those.
- `min_silent_minutes = 20`: a source that logs every minute because something
  drives it (a monitor's health check, an owner's automation, scanners hitting an
  internet-facing sshd) pauses for ten to fifteen minutes now and then (the
  automation's run, a shipper's back-pressure, journald's rate limit, a container
  restart); twenty minutes of nothing is no longer that, and is still within the
  half hour in which a dead service should be noticed.
- `max_gap_minutes = 180`: a source whose gaps around an hour already reach three
  hours would be judged only after six; that is no rhythm to page on. Such a job
  belongs in the inventory's `expect:`.
- `half_life_days = 7`: the largest gaps and shares fade by halves in a week, so a
  changed habit is relearnt while one odd day does not vanish overnight.

**Not rhythm evidence** (`silence_evidence.py`). Rows whose template is an OOM-killer
line (the kernel's "Out of memory: Killed process 123 (httpd)" is attributed to its
victim: a victim is not a service with a rhythm) and life-cycle lines (boot,
shutdown, suspend, resume: `lifecycle.phase_of`) teach no pair. Every line counts
for its host.

**Expected silences.** After a SUSPEND or SHUTDOWN line on a host its pairs and the
host itself are expected to be quiet until the host logs again (a line more than
`expected_silence_grace_minutes` after the marker: the rest of the stop sequence
comes first; or at once a RESUME/BOOT line). The gap over it neither teaches nor
trips: after the host wakes, each pair's silence is counted from the wake-up. A
host whose silence was reported, or that a source reports unreachable
(`Window.sources`: `host_unreachable`'s job), is held the same way.

**Heartbeats.** A service with `expect: {every: ...}` in the inventory
(`ServiceInfo.heartbeat`) is watched exactly on each of its inventory hosts, from
the first tick that knows it: silent when no line came for `every` (whole minutes,
rounded up) plus `heartbeat_grace_minutes`, whatever its rhythm.

**A whole host.** A host is silent when its own rhythm (the gaps between minutes with
any line on the host) says so: one finding (service None, kind `silent_host`), and
none for each of its services while it stays silent. Its gaps are never longer than
any of its pairs', so it is due about when its last steady pair would be; a pair due
while its whole host has been quiet since the pair's last line waits for the host's
verdict (at most about one of the host's gaps), so a host that dies is one finding
even when one of its services fell quiet a minute before the others.

Dedup: a silent stretch fires once (`f` is the last minute of the stretch that fired);
a stretch that starts and ends inside one multi-minute window fires when its end is
seen. State: one key per service `{"v", "h": {host: pair}}`, a pair being a rhythm plus
`d` (due window end), `f`, and `z` (a heartbeat watched before its first line); one key
`host:<name>` per host `{"v", rhythm, "l": service of the last line, "x": marker
minute, "k": "sleep" | "silent" | "unreachable", "w": wake minute, "d", "f"}`. A pair
or host silent for `forget_after_days` is dropped (heartbeats are kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field

from detector.detectors import silence_evidence as ev
from detector.detectors import silence_rhythm as rh
from detector.detectors import silence_state as ss
from detector.detectors._common import is_minute, next_after, to_minute, versioned
from detector.detectors.base import ServiceInfo, State, StateDraft, Window
from detector.detectors.lifecycle import Phase
from detector.detectors.silence_findings import host_finding, service_finding
from detector.waiting import Wait
from logvigil.core.configbase import Strict
from logvigil.core.findings import Finding

_Pair = dict[str, Any]
HOST_PREFIX = "host:"


class SilenceConfig(Strict):
    """Knobs of `silence` (the module docstring says why each default holds)."""

    enabled: bool = True
    #: A silence is at least this many minutes long.
    min_silent_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 20
    #: A silence must exceed this many times the largest gap shown at that time of day.
    gap_factor: Annotated[float, Field(ge=1, le=100)] = 2.0
    #: The same while the reference is the whole day's largest gap (hours seen once).
    day_gap_factor: Annotated[float, Field(ge=1, le=100)] = 3.0
    #: Hours a source must have been observed before its silence counts.
    min_history_hours: Annotated[int, Field(ge=1, le=30 * 24)] = 24
    #: Days an hour of day must have been observed before it has its own reference.
    min_bucket_days: Annotated[int, Field(ge=1, le=60)] = 2
    #: Share of observed hours with a line for a rhythm to be steady.
    steady_share: Annotated[float, Field(gt=0, le=1)] = 0.8
    #: A largest gap beyond this (minutes) is no rhythm to judge a silence by.
    max_gap_minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)] = 180.0
    #: Half-life of the learnt largest gaps and shares, in days.
    half_life_days: Annotated[float, Field(gt=0, le=365)] = 7.0
    #: Lines this many minutes after a suspend/shutdown line still belong to the stop.
    expected_silence_grace_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 5
    #: A heartbeat (inventory `expect:`) is late after `every` plus this many minutes.
    heartbeat_grace_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 1
    #: A pair or host silent this long is forgotten (never fires again until it logs).
    forget_after_days: Annotated[float, Field(gt=0, le=3650)] = 7.0


class SilenceDetector:
    """Fires when a service, or a whole host, stops logging against its learnt rhythm."""

    config_model: ClassVar[type[Strict]] = SilenceConfig
    name: ClassVar[str] = "silence"
    state_version: ClassVar[int] = 2

    def __init__(self, config: SilenceConfig | None = None) -> None:
        c = self.config = config if config is not None else SilenceConfig()
        self._forget = round(c.forget_after_days * 24 * 60)
        self.params = rh.RhythmParams(
            gap_factor=c.gap_factor,
            day_gap_factor=c.day_gap_factor,
            min_silent=c.min_silent_minutes,
            min_history_hours=c.min_history_hours,
            min_bucket_days=c.min_bucket_days,
            steady_share=c.steady_share,
            max_gap=c.max_gap_minutes,
            keep=0.5 ** (1.0 / c.half_life_days),
            memory=max(2, round(c.half_life_days)),
            horizon=self._forget,
        )
        self._kinds = ev.LineKinds()
        #: service key -> its touch (`silence_state.touch`: the state object, when a pair
        #: of it falls due, and which)
        self._touch_cache: dict[str, ss.Touch] = {}
        #: state key -> the state object this detector wrote for it last, or read and
        #: found whole: the very same object on a later tick needs no validation (a
        #: tick validated every loaded rhythm, most of this detector's cost).
        self._trusted: dict[str, Any] = {}
        #: The state this detector returned last, and of it: each key's first window
        #: end at which the host, or a pair of the service, is due or forgotten (None:
        #: malformed). A tick visits only the hosts and services that log, are watched
        #: or fall due; handed back that very state, it updates the index with the keys
        #: it changed, else it indexes every key of the state it is given first.
        self._returned: State | None = None
        self._soonest: dict[str, int | None] = {}
        #: A state, and whether a silence is held in it (`needs_tick`).
        self._held: tuple[State | None, bool] = (None, True)

    def line_kind(self, service: str, text: str | None) -> tuple[Phase | None, bool]:
        """(life-cycle phase, counts as rhythm evidence) of a template of `service`."""
        return self._kinds(service, text)

    # -- state ----------------------------------------------------------------

    def _load_pairs(self, state: State, svc: str) -> dict[str, _Pair] | None:
        """The pairs of service key `svc`, validated, or None when it is malformed. The
        pairs are those of `state`, shared: `_own` copies one before it changes."""
        raw = versioned(state, svc, self.state_version)
        if raw is not None and self._trusted.get(svc) is raw:
            return dict(raw["h"])
        hosts = raw.get("h") if raw is not None else None
        if not isinstance(hosts, Mapping):
            return None
        out: dict[str, _Pair] = {}
        for host, pair in hosts.items():
            if isinstance(host, str) and isinstance(pair, Mapping) and ss.valid_pair(pair):
                out[host] = pair  # type: ignore[assignment]
        if len(out) == len(hosts):
            self._trusted[svc] = raw
        return out

    def _touched_at(self, key: str, raw: Any) -> int | None:
        """The first window end at which one of the pairs of service state `raw` falls
        due or is forgotten; None when `raw` is malformed. Remembered per state object:
        a state that did not change is the very same object on the next tick."""
        hit = self._touch_cache.get(key)
        if hit is not None and hit[0] is raw:
            return hit[1]
        found = self._touch_cache[key] = ss.touch(raw, self.state_version, self._forget, hit)
        return found[1]

    def _load_host(self, state: State, host: str) -> _Pair | None:
        """The state of `host`, validated, or None when it is malformed; that of `state`,
        shared (`_own` copies it before it changes)."""
        key = HOST_PREFIX + host
        raw = versioned(state, key, self.state_version)
        if raw is not None and self._trusted.get(key) is raw:
            return raw  # type: ignore[return-value]
        if raw is None or not ss.valid_pair(raw) or not isinstance(raw.get("l", ""), str):
            return None
        if raw.get("k", "sleep") not in ("sleep", "silent", "unreachable"):
            return None
        if not all(raw.get(k) is None or is_minute(raw[k]) for k in ("x", "w")):
            return None
        self._trusted[key] = raw
        return raw  # type: ignore[return-value]

    @staticmethod
    def _own(table: dict[str, _Pair], key: str, owned: set[int]) -> _Pair:
        """`table[key]`, to be changed: copied first unless this tick made or copied it
        (a loaded pair or host is the given state's own, which a tick never changes: a
        tick of a relay of many hosts copies what changes, not all it knows)."""
        p = table[key]
        if id(p) not in owned:
            p = table[key] = rh.copy_rhythm(p)
            owned.add(id(p))
        return p

    # -- expected silences ----------------------------------------------------

    def _grace(self, hs: _Pair) -> int:
        return self.config.expected_silence_grace_minutes if hs.get("k") == "sleep" else 0

    def _asleep(self, hs: _Pair | None, t: int) -> bool:
        """A source last heard at `t` is excused: its host stopped after it and is still down."""
        if hs is None or hs.get("x") is None or hs.get("w") is not None:
            return False
        return t <= hs["x"] + self._grace(hs)

    def _start(self, hs: _Pair | None, t: int, m: int) -> int:
        """Where a silence from `t` up to `m` counts from: `t`, or after an expected
        silence that ended (the host woke at `w` <= `m`) the minute before the wake-up."""
        if hs is not None and hs.get("x") is not None and t <= hs["x"] + self._grace(hs):
            w = hs.get("w")
            if w is not None and w <= m:
                return max(t, w - 1)
        return t

    def _host_minute(
        self, host: str, hs: _Pair, m: int, info: ev.HostMinute, now: datetime
    ) -> Finding | None:
        """Fold minute `m` of `host` into its state; a host silence that ended at `m`."""
        found = None
        if self._is_due(hs, m) and not self._asleep(hs, hs["t"]):
            found = self._host_finding(host, hs, m, now, resumed=True)
            self._hold(hs, "silent")
        x = hs.get("x")
        if x is not None and hs.get("w") is None and (info.wake or m > x + self._grace(hs)):
            hs["w"] = m
        t = hs["t"]
        if hs.get("k") == "silent" and hs.get("x") == t and hs.get("w") == m:
            rh.fold(hs, m, t, teach_gap=False, p=self.params)  # a reported silence
        else:
            rh.fold(hs, m, self._start(hs, t, m), teach_gap=hs.get("f") != t, p=self.params)
        hs.pop("f", None)
        hs["l"] = info.last_service()
        if info.sleep and not info.wake:
            hs["x"], hs["k"] = m, "sleep"
            hs.pop("w", None)
        ss.set_due(hs, rh.due(hs, m, self.params))
        return found

    def _hold(self, hs: _Pair, kind: str) -> None:
        """Hold the host's pairs as from its last line (a reported or unreachable host)."""
        hs["f"] = hs["t"]
        hs["x"], hs["k"] = hs["t"], kind
        hs.pop("w", None)

    # -- due ------------------------------------------------------------------

    def _heartbeat(self, info: ServiceInfo | None, host: str) -> int | None:
        """Minutes a heartbeat may be late on `host` (every + grace), or None."""
        return ev.heartbeat_late(info, host, self.config.heartbeat_grace_minutes)

    def _pair_due(self, pair: _Pair, start: int, info: ServiceInfo | None, host: str) -> int | None:
        beat = self._heartbeat(info, host)
        if beat is not None:
            return start + beat + 1
        if info is not None and info.quiet:
            return None
        return rh.due(pair, start, self.params)

    def next_due(self, state: State, after: datetime) -> datetime | None:
        """When a pair or a host falls due (its `d`, unless that silence already fired)
        or is forgotten. A silence held past its due (a host asleep, a pair waiting for
        its host's verdict) ends with a line of its host (`needs_tick`) or its host's due."""
        low, due = to_minute(after), []
        for key, raw in state.items():
            if key.startswith(HOST_PREFIX):
                if (hs := self._load_host(state, key[len(HOST_PREFIX) :])) is not None:
                    due.extend(ss.dues(hs, self._forget))
            elif (at := self._touched_at(key, raw)) is not None and at != ss.NEVER:
                due.extend(ss.service_dues(raw, at, low, self._forget))
        return next_after(due, low)

    @staticmethod
    def _is_due(p: _Pair, end: int) -> bool:
        d = p.get("d")
        return d is not None and d <= end and p.get("f") != p["t"]

    # -- evaluate -------------------------------------------------------------

    def needs_tick(self, window: Window, state: State) -> bool:
        """A host's life-cycle lines (it stops, sleeps, wakes), a record of an unreachable
        host, and any line while a silence is held (`ss.held`), in their minute's tick;
        other lines only fold into rhythms, in minute order."""
        if ev.marks_life(window, self._kinds) or window.reports_unreachable():
            return True
        if state is not self._held[0]:
            indexed = state is self._returned and len(state) == len(self._soonest)
            self._held = (state, not indexed or ss.held(self._soonest, to_minute(window.start)))
        return self._held[1]

    def patience(self, services: Mapping[str, ServiceInfo]) -> int | None:
        """`min_silent_minutes`, or a heartbeat's every + grace + 1 if less (`waits`)."""
        beats = (self._heartbeat(i, h) for i in services.values() for h in i.hosts)
        return min([self.config.min_silent_minutes, *(b + 1 for b in beats if b is not None)])

    def waits(self, window: Window, services: Mapping[str, ServiceInfo]) -> list[Wait]:
        """The pairs and hosts `window`'s rows are lines of, and their wait (`ev.waits`)."""
        silent, grace = self.config.min_silent_minutes, self.config.heartbeat_grace_minutes
        return ev.waits(window, self._kinds, silent, services, grace)

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the silences found up to the end of `window` and the new state."""
        new_state = StateDraft(state)
        end, services, v = to_minute(window.end), window.services, self.state_version
        findings: list[Finding] = []
        activity = ev.activity(window, self._kinds)

        # Loaded (validated, copied): every host; the services that log in this window,
        # are watched by a heartbeat, or have a pair due or to forget. Others stay as
        # they are: a tick's cost follows what happens, not how much was learnt.
        active = {
            svc for minutes in activity.values() for m in minutes.values() for svc in m.evidence
        }
        pairs: dict[str, dict[str, _Pair]] = {}
        hosts: dict[str, _Pair] = {}
        dirty: set[str] = set()
        owned: set[int] = set()  # the pairs and hosts this tick made or copied
        if not (state is self._returned and len(state) == len(self._soonest)):
            # not the state as this detector left it: index it first
            self._soonest = {}
            self._index(state, state)
        soonest = self._soonest
        visit = [
            *(k for k, at in soonest.items() if at is None or at <= end),  # due, or malformed
            *(k for k in active if k in soonest),
            *(k for host in activity if (k := HOST_PREFIX + host) in soonest),
            *(k for k, i in services.items() if i.heartbeat is not None and k in soonest),
        ]
        if window.reports_unreachable():
            visit.extend(k for k in soonest if k.startswith(HOST_PREFIX))  # held: see below
        for key in dict.fromkeys(visit):
            if key.startswith(HOST_PREFIX):
                hs = self._load_host(state, key[len(HOST_PREFIX) :])
                if hs is None:
                    del new_state[key]
                else:
                    hosts[key[len(HOST_PREFIX) :]] = hs
                continue
            loaded = self._load_pairs(state, key)
            if loaded is None:
                del new_state[key]
            else:
                pairs[key] = loaded
                if len(loaded) != len(state[key].get("h", ())):
                    dirty.add(key)

        # Heartbeats are watched from the first tick that knows them.
        start = to_minute(window.start)
        for svc, info in services.items():
            if info.heartbeat is None:
                continue
            for host in info.hosts:
                if host not in pairs.setdefault(svc, {}):
                    stub = rh.new_rhythm(start - 1)
                    stub.update(n=[0] * rh.HOURS, h=[0.0] * rh.HOURS, z=1)
                    pairs[svc][host] = stub
                    owned.add(id(stub))
                    dirty.add(svc)

        logged: dict[str, set[str]] = {}  # service -> hosts whose pair this window folds
        for host in sorted(activity):
            minutes = activity[host]
            hs = hosts.get(host)
            for m in sorted(minutes):
                info = minutes[m]
                if hs is None:
                    hs = hosts[host] = rh.new_rhythm(m)
                    owned.add(id(hs))
                    hs["l"] = info.last_service()
                    ss.set_due(hs, rh.due(hs, m, self.params))
                elif m > hs["t"]:
                    hs = self._own(hosts, host, owned)
                    found = self._host_minute(host, hs, m, info, now)
                    if found is not None:
                        findings.append(found)
                for svc, _count in sorted(info.evidence.items()):
                    f = self._pair_minute(svc, host, m, pairs, hs, services.get(svc), now, owned)
                    if f is not None:
                        findings.append(f)
                    dirty.add(svc)
                    logged.setdefault(svc, set()).add(host)
            dirty.add(HOST_PREFIX + host)

        # Unreachable hosts are another detector's: hold their pairs.
        for record in window.sources:
            for host, hs in hosts.items():
                if ev.unreachable(record, host, now) and not self._asleep(hs, hs["t"]):
                    hs = self._own(hosts, host, owned)
                    self._hold(hs, "unreachable")
                    hs.pop("f", None)
                    dirty.add(HOST_PREFIX + host)

        # Hosts first: a silent host speaks for its services.
        for host in sorted(hosts):
            hs = hosts[host]
            if end - hs["t"] > self._forget:
                del hosts[host]
                new_state.pop(HOST_PREFIX + host, None)
                dirty.discard(HOST_PREFIX + host)
                continue
            if self._is_due(hs, end) and not self._asleep(hs, hs["t"]):
                findings.append(self._host_finding(host, hs, end, now))
                self._hold(self._own(hosts, host, owned), "silent")
                dirty.add(HOST_PREFIX + host)

        def host_of(host: str) -> _Pair | None:
            """The state of `host`: loaded above when it logs or falls due, else now."""
            hs = hosts.get(host)
            if hs is None and HOST_PREFIX + host in new_state and HOST_PREFIX + host in state:
                hs = self._load_host(state, host)  # whole: indexed so, and not due
                if hs is not None:
                    hosts[host] = hs
            return hs

        for svc in sorted(pairs):
            info = services.get(svc)
            mine = pairs[svc]
            names: Iterable[str] = mine
            before = soonest.get(svc)
            if before is not None and before > end and (info is None or info.heartbeat is None):
                # No pair of the state before falls due or is forgotten by `end` (the
                # index): only those folded now can, and a relay's service has many.
                names = [h for h in logged.get(svc, ()) if h in mine]
            for host in sorted(names):
                pair = mine[host]
                beat = self._heartbeat(info, host)
                if beat is None and end - pair["t"] > self._forget:
                    del mine[host]
                    dirty.add(svc)
                    continue
                hs = host_of(host)
                if beat is not None and pair.get("f") != pair["t"]:
                    due = self._start(hs, pair["t"], end) + beat + 1
                    if pair.get("d") != due:
                        pair = self._own(pairs[svc], host, owned)
                        ss.set_due(pair, due)
                if not self._is_due(pair, end) or self._asleep(hs, pair["t"]):
                    continue
                if ss.host_deciding(hs, pair["t"], end):
                    continue
                dirty.add(svc)
                pair = self._own(pairs[svc], host, owned)
                s = self._start(hs, pair["t"], end)
                if s != pair["t"]:  # woke after an expected silence: count from then
                    ss.set_due(pair, self._pair_due(pair, s, info, host))
                    if not self._is_due(pair, end):
                        continue
                findings.append(self._service_finding(svc, host, pair, s, end, info, now))
                pair["f"] = pair["t"]

        trusted = self._trusted
        for svc in dirty:
            if svc.startswith(HOST_PREFIX):
                hs = hosts.get(svc[len(HOST_PREFIX) :])
                if hs is not None:
                    new_state[svc] = trusted[svc] = {"v": v, **hs}
            elif pairs.get(svc):
                new_state[svc] = trusted[svc] = {"v": v, "h": pairs[svc]}
            else:
                new_state.pop(svc, None)
        findings.sort(key=lambda f: (f.started_at, f.host or "", f.service or ""))
        if len(self._touch_cache) > 2 * len(new_state) + 64:  # services forgotten since
            self._touch_cache = {k: v for k, v in self._touch_cache.items() if k in new_state}
        if len(trusted) > 2 * len(new_state) + 64:
            self._trusted = {k: v for k, v in trusted.items() if k in new_state}
        self._index(new_state, new_state.touched)
        self._returned = new_state
        return findings, new_state

    def _index(self, state: State, keys: Iterable[str]) -> None:
        """Bring the index up to date with `keys` of `state` (held there, or gone): each
        has its first window end at which it is due or forgotten (None: malformed)."""
        for key in keys:
            raw = state.get(key)
            if raw is None:
                self._soonest.pop(key, None)
            elif key.startswith(HOST_PREFIX):
                self._soonest[key] = self._host_touched_at(state, key)
            else:
                self._soonest[key] = self._touched_at(key, raw)

    def _host_touched_at(self, state: State, key: str) -> int | None:
        """When host key `key` of `state` falls due (its `d`, unless that silence fired) or
        is forgotten; None when it is malformed."""
        hs = state[key]
        if self._trusted.get(key) is not hs:  # not as this detector wrote or read it
            hs = self._load_host(state, key[len(HOST_PREFIX) :])
        return None if hs is None else ss.host_touched_at(hs, self._forget)

    def _pair_minute(
        self,
        svc: str,
        host: str,
        m: int,
        pairs: dict[str, dict[str, _Pair]],
        hs: _Pair,
        info: ServiceInfo | None,
        now: datetime,
        owned: set[int],
    ) -> Finding | None:
        """Fold minute `m` of a pair; the silence that ended at `m`, if it was one."""
        mine = pairs.setdefault(svc, {})
        pair = mine.get(host)
        found = None
        if pair is None or pair.get("z"):
            pair = mine[host] = rh.new_rhythm(m)
            owned.add(id(pair))
        elif m > pair["t"]:
            pair = self._own(mine, host, owned)
            t = pair["t"]
            start = self._start(hs, t, m)
            due = pair.get("d") if start == t else self._pair_due(pair, start, info, host)
            fired = pair.get("f") == t
            if due is not None and due <= m and not fired and not self._asleep(hs, t):
                found = self._service_finding(svc, host, pair, start, m, info, now, resumed=True)
            teach = found is None and not fired
            rh.fold(pair, m, start, teach_gap=teach, p=self.params)
            pair.pop("f", None)
        else:
            return None
        ss.set_due(pair, self._pair_due(pair, m, info, host))
        return found

    # -- findings -------------------------------------------------------------

    def _service_finding(
        self,
        svc: str,
        host: str,
        pair: _Pair,
        start: int,
        end: int,
        info: ServiceInfo | None,
        now: datetime,
        *,
        resumed: bool = False,
    ) -> Finding:
        watched = self._heartbeat(info, host) is not None and info is not None
        return service_finding(
            svc,
            host,
            last=None if pair.get("z") else pair["t"],
            start=start,
            end=end,
            now=now,
            judged=None if watched else rh.judged_at(pair, end - 1, self.params),
            every=info.heartbeat if watched and info is not None else None,
            resumed=resumed,
        )

    def _host_finding(
        self, host: str, hs: _Pair, end: int, now: datetime, *, resumed: bool = False
    ) -> Finding:
        return host_finding(
            host,
            last=hs["t"],
            last_service=hs.get("l") or "unknown",
            end=end,
            now=now,
            judged=rh.judged_at(hs, end - 1, self.params),
            resumed=resumed,
        )
