"""The tick: windows of whole minutes, persisted detector state, isolation of a failing detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel
from sqlalchemy import delete, func, select

from detector.detectors import build_detectors
from detector.detectors.base import State, StateDraft, Window
from detector.tick import MAX_CATCHUP, Ticker, state_changes
from logvigil.core.events import LogEvent, Severity
from logvigil.core.findings import Finding
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseConfig, NoiseFilter
from logvigil.store.schema import TickRow
from logvigil.store.source_health import SourceHealthRecord, record_source_health

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


class _Cfg(BaseModel):
    pass


class CountingDetector:
    """Counts lines per service in state; finds a service whose window has > 3 lines."""

    name: ClassVar[str] = "counting"
    state_version: ClassVar[int] = 1

    def __init__(self) -> None:
        self.config = _Cfg()
        self.windows: list[Window] = []

    def evaluate(self, window: Window, state: State, now: datetime):
        self.windows.append(window)
        new = {k: dict(v) for k, v in state.items()}
        per: dict[str, int] = {}
        for row in window.rows:
            per[row.service] = per.get(row.service, 0) + row.count
        findings = []
        for service, n in per.items():
            new.setdefault(service, {"lines": 0})["lines"] += n
            if n > 3:
                findings.append(
                    Finding("counting", now, window.start, service, None, Severity.ERROR, f"{n}")
                )
        return findings, new


class BrokenDetector:
    name: ClassVar[str] = "broken"
    state_version: ClassVar[int] = 1

    def __init__(self) -> None:
        self.config = _Cfg()
        self.calls = 0

    def evaluate(self, window: Window, state: State, now: datetime) -> Any:
        self.calls += 1
        raise ZeroDivisionError("bug")


def ingest(engine, *events: tuple[datetime, str, str]) -> None:
    ing = Ingestor(engine, NoiseFilter.from_config(NoiseConfig()))
    ing.feed(LogEvent(ts, "h1", svc, Severity.INFO, msg) for ts, svc, msg in events)
    ing.close()


def test_a_tick_evaluates_the_minutes_completed_since_the_last_one(engine) -> None:
    det = CountingDetector()
    ticker = Ticker(engine, [det])
    ingest(
        engine,
        *[(T0 + timedelta(seconds=s), "web", f"request {s} served") for s in range(0, 60, 10)],
    )
    result = ticker.tick(T0 + timedelta(minutes=1, seconds=5))
    assert (result.window.start, result.window.end) == (T0, T0 + timedelta(minutes=1))
    assert sum(r.count for r in result.window.rows) == 6
    assert [f.service for f in result.findings] == ["web"]
    assert "request <*> served" in result.window.templates.values()
    assert ("web", next(iter(result.window.templates))) in result.window.new_pairs
    again = ticker.tick(T0 + timedelta(minutes=1, seconds=30))  # same minute: nothing new
    assert again.window is None


def test_prefetched_ticks_read_what_ticks_one_by_one_read(engine) -> None:
    ingest(
        engine,
        *[
            (T0 + timedelta(minutes=m, seconds=s), svc, f"{svc} request {m} served")
            for m in range(6)
            for s in range(0, 60, 20)
            for svc in (("web", "db") if m % 2 else ("web",))
        ],
    )
    times = [T0 + timedelta(minutes=m) for m in range(1, 7)]
    one, batched = CountingDetector(), CountingDetector()
    plain = Ticker(engine, [one])
    for t in times:
        plain.tick(t)
    with engine.begin() as conn:  # the same store, as if never ticked
        conn.execute(delete(TickRow))
    fresh = Ticker(engine, [batched])
    fresh.prefetch(times)
    for t in times:
        fresh.tick(t)
    assert [w.rows for w in batched.windows] == [w.rows for w in one.windows]
    assert [w.templates for w in batched.windows] == [w.templates for w in one.windows]
    assert [w.new_pairs for w in batched.windows] == [w.new_pairs for w in one.windows]
    assert [(w.start, w.end) for w in batched.windows] == [(w.start, w.end) for w in one.windows]


def test_a_batched_ticker_writes_its_state_and_ticks_on_persist(engine) -> None:
    ingest(engine, *[(T0 + timedelta(seconds=s), "web", "request served") for s in range(5)])
    ticker = Ticker(engine, [CountingDetector()])
    ticker.batched = True
    ticker.tick(T0 + timedelta(minutes=1))
    ticker.tick(T0 + timedelta(minutes=2))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TickRow)).scalar_one() == 0
    ticker.persist()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TickRow)).scalar_one() == 2
    again = Ticker(engine, [CountingDetector()])
    assert again.last_window_end == T0 + timedelta(minutes=2)
    assert again._state["counting"] == {"web": {"lines": 5}}


def test_a_long_pause_is_caught_up_only_for_the_last_hour(engine) -> None:
    ticker = Ticker(engine, [CountingDetector()])
    ticker.tick(T0)
    result = ticker.tick(T0 + timedelta(hours=5))
    assert result.window.end - result.window.start == MAX_CATCHUP


def test_a_failing_detector_is_isolated_and_backed_off(engine) -> None:
    good, bad = CountingDetector(), BrokenDetector()
    ticker = Ticker(engine, [bad, good])
    ingest(engine, *[(T0 + timedelta(seconds=s), "db", "checkpoint") for s in range(5)])
    calls, errors_seen = [], []
    for minute in range(1, 9):
        result = ticker.tick(T0 + timedelta(minutes=minute))
        calls.append(bad.calls)
        errors_seen.append(result.errors.get("broken"))
        assert len(good.windows) == minute  # the good detector ran every tick
    # runs at ticks 1, 3 (after skipping 1), 6 (after skipping 2), then skips 4
    assert calls == [1, 1, 2, 2, 2, 3, 3, 3]
    assert errors_seen[0] == "ZeroDivisionError: bug" and errors_seen[1] is None
    with engine.connect() as conn:
        errors = conn.execute(select(func.count()).where(TickRow.errors.is_not(None))).scalar()
    assert errors >= 3


def test_state_survives_a_restart_and_another_version_is_discarded(engine) -> None:
    ingest(engine, *[(T0 + timedelta(seconds=s), "db", "vacuum done") for s in range(2)])
    first = Ticker(engine, [CountingDetector()])
    first.tick(T0 + timedelta(minutes=1))
    restarted = CountingDetector()
    second = Ticker(engine, [restarted])
    assert second.last_window_end == T0 + timedelta(minutes=1)
    assert second.window_for(T0 + timedelta(minutes=1, seconds=59)) is None  # no re-evaluation
    assert second._state["counting"] == {"db": {"lines": 2}}

    class V2(CountingDetector):
        state_version: ClassVar[int] = 2

    third = Ticker(engine, [V2()])
    assert third._state["counting"] == {}


def test_a_state_key_the_detector_forgot_does_not_come_back_after_a_restart(engine) -> None:
    class Forgetful(CountingDetector):
        def evaluate(self, window, state, now):
            if not state:
                return [], {"old-service": {"lines": 1}, "kept": {"lines": 2}}
            return [], {"kept": {"lines": 2}}

    ticker = Ticker(engine, [Forgetful()])
    ticker.tick(T0 + timedelta(minutes=1))
    ticker.tick(T0 + timedelta(minutes=2))
    assert Ticker(engine, [Forgetful()])._state["counting"] == {"kept": {"lines": 2}}


UNREACHABLE = SourceHealthRecord(
    source="ssh_journald:db-02",
    process="hub-02:9",
    kind="ssh_journald",
    updated_at=T0 + timedelta(seconds=55),
    host="db-02",
    unreachable_since=T0 - timedelta(minutes=10),
    unreachable_grace_s=120,
    error="Connection refused",
)


def test_the_window_carries_the_health_every_process_recorded_for_its_sources(engine) -> None:
    record_source_health(engine, [UNREACHABLE])
    det = CountingDetector()
    Ticker(engine, [det]).tick(T0 + timedelta(minutes=1))
    assert det.windows[0].sources == (UNREACHABLE,)


def test_a_tick_finds_a_host_that_a_process_recorded_as_unreachable(engine) -> None:
    record_source_health(engine, [UNREACHABLE])
    result = Ticker(engine, build_detectors()).tick(T0 + timedelta(minutes=1))
    (finding,) = result.findings
    assert (finding.detector, finding.kind, finding.host) == ("source", "host_unreachable", "db-02")
    assert finding.started_at == UNREACHABLE.unreachable_since


def test_a_state_draft_names_the_keys_to_compare_and_they_give_the_whole_comparison() -> None:
    old = {"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}, "d": {"n": 4}}
    draft = StateDraft(old)
    draft["d"] = {"n": 40}  # changed, written before an earlier key
    draft["b"] = {"n": 20}
    draft["a"] = {"n": 1}  # written again, equal: not a change
    del draft["c"]
    draft.pop("x", None)  # absent in both: nothing
    draft["e"] = {"n": 5}  # new
    assert draft.touched == {"a", "b", "c", "d", "e", "x"}
    assert state_changes(old, draft) == (["b", "d", "e"], ["c"])  # in the new state's order
    assert state_changes(old, dict(draft)) == (["b", "d", "e"], ["c"])
    assert state_changes(old, StateDraft(old)) == ([], [])
    # Not by value (a replay's batched writes): an equal value written again is a change.
    assert state_changes(old, draft, by_value=False) == (["a", "b", "d", "e"], ["c"])
    with pytest.raises(TypeError):
        draft.update(f={"n": 6})  # a change it could not name
