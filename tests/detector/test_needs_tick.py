"""Each detector says which lines need a tick at the end of their minute
(`needs_tick`) and how long the others may wait (`patience`); the ticker asks them all
and gets a tick from a detector that cannot say or is failing. A backtest relies on
it to evaluate ordinary lines in stretches (tests/app/test_backtest_coalesce.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from detector.detectors.base import CountRow, ServiceInfo, State, Window
from detector.detectors.error_spike import ErrorSpike
from detector.detectors.host_unreachable import HostUnreachable
from detector.detectors.new_template import NewTemplate
from detector.detectors.primitive import PrimitiveDetector
from detector.detectors.reboot import UncleanRebootDetector
from detector.detectors.silence import SilenceConfig, SilenceDetector
from detector.tick import MAX_CATCHUP, Ticker
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.store.source_health import SourceHealthRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# Real lines' templates: the kernel's OOM killer, Debian's kernel banner, cron.
OOM = "Out of memory: Killed process <*> (mysqld) total-vm:<*>, anon-rss:<*>, file-rss:<*>"
BANNER = "[ <*>] Linux version <*> (debian-kernel@lists.debian.org) (gcc-12 <*>) #1 SMP"
CRON = "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"


def window(
    minute: int,
    service: str,
    text: str,
    severity: Severity = Severity.INFO,
    *,
    host: str = "db-01",
    new: bool = False,
    sources: tuple[SourceHealthRecord, ...] = (),
) -> Window:
    """The lines of one minute (`minute` after T0): one template of `service`."""
    at = T0 + timedelta(minutes=minute)
    return Window(
        at,
        at + timedelta(minutes=1),
        (CountRow(at, host, service, 7, severity, 1),),
        {7: text},
        {(service, 7): at} if new else {},
        sources=sources,
    )


def test_error_spike_needs_the_minute_of_an_error_only() -> None:
    det = ErrorSpike()
    assert not det.needs_tick(window(0, "nginx", "GET / 200"), {})
    assert not det.needs_tick(window(0, "nginx", "slow upstream", Severity.WARNING), {})
    assert det.needs_tick(window(0, "nginx", "upstream timed out", Severity.ERROR), {})
    assert det.patience({}) is None


def test_new_template_needs_the_minute_of_a_first_sighting() -> None:
    det = NewTemplate()
    assert not det.needs_tick(window(0, "nginx", "GET / 200"), {})
    assert det.needs_tick(window(0, "nginx", "GET / 200", new=True), {})


def test_a_primitive_line_needs_its_minute_unless_its_host_is_in_the_cooldown() -> None:
    det = PrimitiveDetector()
    assert not det.needs_tick(window(0, "cron", CRON), {})
    assert det.needs_tick(window(0, "kernel", OOM), {})
    # The first line of the storm fired at minute 0: the next ones wait, until the
    # cooldown (10 minutes) has passed, and another host's is judged at once.
    found, state = det.evaluate(window(0, "kernel", OOM), {}, T0 + timedelta(minutes=1))
    assert found
    assert not det.needs_tick(window(3, "kernel", OOM), state)
    assert not det.needs_tick(window(9, "kernel", OOM), state)
    assert det.needs_tick(window(10, "kernel", OOM), state)
    assert det.needs_tick(window(3, "kernel", OOM, host="db-02"), state)


def test_the_cooldown_state_is_pruned_as_of_the_last_line_not_the_window_end() -> None:
    """The same lines evaluated in a later, longer window leave the same state."""
    det = PrimitiveDetector()
    _, state = det.evaluate(window(0, "kernel", OOM), {}, T0 + timedelta(minutes=1))
    alone = det.evaluate(window(4, "kernel", OOM), state, T0 + timedelta(minutes=5))[1]
    late = window(4, "kernel", OOM)
    late = Window(late.start, late.end + timedelta(minutes=15), late.rows, late.templates)
    later = det.evaluate(late, state, T0 + timedelta(minutes=20))[1]
    assert later == alone
    assert alone["kernel"]["c"]  # minute 0 is still within its cooldown at minute 4


def test_unclean_reboot_needs_the_minute_of_a_boot() -> None:
    det = UncleanRebootDetector()
    assert not det.needs_tick(window(0, "CRON", CRON), {})
    assert det.needs_tick(window(0, "kernel", BANNER), {})
    assert det.patience({}) is None


def test_silence_needs_a_host_life_cycle_line_or_a_held_silence() -> None:
    det = SilenceDetector()
    assert det.needs_tick(window(0, "CRON", CRON), {})  # a state it has not indexed
    _, state = det.evaluate(window(0, "CRON", CRON), {}, T0 + timedelta(minutes=1))
    assert not det.needs_tick(window(1, "CRON", CRON), state)
    assert det.needs_tick(window(1, "kernel", BANNER), state)
    unreachable = SourceHealthRecord(
        "ssh-db-02", "relay:1", "ssh_journald", T0, host="db-02", unreachable_since=T0
    )
    assert det.needs_tick(window(1, "CRON", CRON, sources=(unreachable,)), state)


def test_silence_patience_is_its_least_silence_or_a_heartbeat() -> None:
    det = SilenceDetector(SilenceConfig(min_silent_minutes=20))
    assert det.patience({}) == 20
    beat = ServiceInfo("backup", hosts=("db-01",), heartbeat=timedelta(minutes=5))
    grace = det.config.heartbeat_grace_minutes
    assert det.patience({"backup": beat}) == min(20, 5 + grace + 1)


def test_host_unreachable_needs_a_tick_while_a_record_says_so() -> None:
    det = HostUnreachable()
    record = SourceHealthRecord("ssh-db-02", "relay:1", "ssh_journald", T0, host="db-02")
    assert not det.needs_tick(window(0, "CRON", CRON, sources=(record,)), {})
    down = SourceHealthRecord(
        "ssh-db-02", "relay:1", "ssh_journald", T0, host="db-02", unreachable_since=T0
    )
    assert det.needs_tick(window(0, "CRON", CRON, sources=(down,)), {})


class _PlugIn:
    """A detector of someone else's, without `needs_tick` or `patience`."""

    name: ClassVar[str] = "plug_in"
    state_version: ClassVar[int] = 1

    def evaluate(self, window: Window, state: State, now: datetime) -> tuple[list[Finding], Any]:
        return [], {}

    def next_due(self, state: State, after: datetime) -> datetime | None:
        return None


class _Failing(_PlugIn):
    name: ClassVar[str] = "failing"

    def evaluate(self, window: Window, state: State, now: datetime) -> tuple[list[Finding], Any]:
        raise RuntimeError("a bug")

    def needs_tick(self, window: Window, state: State) -> bool:
        return False

    def patience(self, services: Any) -> int | None:
        return None


def test_the_ticker_ticks_for_a_detector_that_cannot_say_or_fails(engine) -> None:
    ordinary = window(0, "CRON", CRON)
    quiet = Ticker(engine, [ErrorSpike(), NewTemplate()])
    assert not quiet.needs_tick(ordinary)
    assert quiet.patience() == MAX_CATCHUP  # the longest window a tick reads
    assert Ticker(engine, [ErrorSpike(), _PlugIn()]).needs_tick(ordinary)
    assert Ticker(engine, [_PlugIn()]).patience() == timedelta(0)
    failing = Ticker(engine, [_Failing()])
    assert not failing.needs_tick(ordinary)
    failing.tick(T0 + timedelta(minutes=1))
    assert failing.needs_tick(ordinary)  # backed off after its failure


HOSTILE_STATES: list[dict[str, Any]] = [
    {"kernel": "not a mapping"},
    {"kernel": {"v": 1, "c": "not a mapping"}},
    {"kernel": {"v": 1, "c": {"oom_kill": {"db-01": "noon"}}}},
    {"kernel": {"v": 1, "c": {"oom_kill": ["db-01"]}}},
    {"kernel": {"v": 99, "c": {"oom_kill": {"db-01": 0}}}},
    {"CRON": {"v": 2, "h": {"db-01": {"t": "yesterday"}}}, "host:db-01": None},
]


def test_a_hostile_state_gets_an_answer_never_an_exception() -> None:
    """A state from an older version or a damaged store: each detector answers (a
    malformed cooldown is no cooldown: the line may fire, so it needs its tick)."""
    detectors = [ErrorSpike(), NewTemplate(), PrimitiveDetector(), UncleanRebootDetector()]
    detectors += [SilenceDetector(), HostUnreachable()]
    for state in HOSTILE_STATES:
        for det in detectors:
            for w in (window(5, "kernel", OOM), window(5, "CRON", CRON)):
                assert det.needs_tick(w, state) in (True, False)
        assert PrimitiveDetector().needs_tick(window(5, "kernel", OOM), state)
