"""The daemon's runtime queues notifications for what a tick finds; a backtest never does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from logvigil.app.runtime import Runtime, read_inventory
from logvigil.app.settings import Settings
from logvigil.core.events import LogEvent, Severity
from logvigil.store.schema import OutboxRow
from notify import build_notifiers
from notify.outbox import Sender

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
OOM = (
    "Out of memory: Killed process 2811 (postgres) total-vm:8335800kB, anon-rss:7488604kB, "
    "file-rss:0kB, shmem-rss:102400kB, UID:113 pgtables:16820kB oom_score_adj:0"
)


def _runtime(tmp_path: Path, *, notify: bool) -> Runtime:
    settings = Settings.model_validate(
        {"data_dir": str(tmp_path), "notify": {"console_file": str(tmp_path / "console.log")}}
    )
    return Runtime(
        settings,
        db_url=f"sqlite:///{tmp_path / 'store.db'}",
        inventory=read_inventory(ROOT / "inventory.yaml"),
        notify=notify,
    )


def _oom(rt: Runtime) -> None:
    rt.ingestor.add(LogEvent(T0 + timedelta(seconds=5), "db-01", "kernel", Severity.ERROR, OOM))
    rt.ingestor.flush()


def test_an_oom_kill_reaches_the_console_channel_once(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, notify=True)
    try:
        _oom(rt)
        result = rt.tick(T0 + timedelta(minutes=1))
        assert [c.kind.value for c in result.changes] == ["opened"]
        sender = Sender(rt.engine, build_notifiers(rt.settings.notify))
        sender.drain(T0 + timedelta(minutes=1, seconds=5))
        sender.drain(T0 + timedelta(minutes=1, seconds=10))  # nothing left to send twice
        text = (tmp_path / "console.log").read_text()
        assert "postgres" in text and "OOM" in text
        assert text.count("investigate --incident 1") >= 1
        with rt.engine.connect() as conn:
            kinds = sorted(conn.execute(select(OutboxRow.kind)).scalars())
        assert kinds == ["opened", "report"]
    finally:
        rt.close()


def test_a_backtest_runtime_queues_nothing(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, notify=False)
    try:
        _oom(rt)
        assert rt.tick(T0 + timedelta(minutes=1)).changes
        with rt.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(OutboxRow)).scalar_one() == 0
    finally:
        rt.close()
