"""The store on real SQLite, PostgreSQL and MariaDB: migrations, ingest writes, retention."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.core.redact import REDACTED
from logvigil.ingest.ingestor import Ingestor, load_templates, reason_category
from logvigil.ingest.noise import NoiseConfig, NoiseFilter, NoiseRuleConfig
from logvigil.store import bulk, database
from logvigil.store.database import StoreError, create_store_engine, current_revision
from logvigil.store.retention import purge
from logvigil.store.schema import (
    Counter,
    Event,
    IngestCursor,
    MinuteCount,
    Rejection,
    ServiceTemplate,
    Template,
    metadata,
)
from logvigil.store.source_health import (
    SourceHealthRecord,
    read_source_health,
    record_source_health,
)
from logvigil.store.stats import collect_stats
from migrations.apply import downgrade, head_revision, migrate, open_engine

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def ev(msg: str, *, service="postgres", host="db-01", sev=Severity.INFO, at=T0, **attrs):
    return LogEvent(at, host, service, sev, msg, source="test", attributes=attrs)


def noise() -> NoiseFilter:
    return NoiseFilter.from_config(NoiseConfig())


def test_migrations_upgrade_downgrade_and_upgrade_again(db_url: str) -> None:
    engine = create_store_engine(db_url)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    assert current_revision(engine) is None
    migrate(engine)
    migrate(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_models_agree_with_the_migrated_schema(engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # MariaDB reports BOOLEAN as TINYINT(1): a type alias, not a drift.
    real = [d for d in diff if not (d[0] == "modify_type" and "truncated" in str(d))]
    assert real == []


def test_ingest_stores_templates_counts_and_events(engine) -> None:
    ing = Ingestor(engine, noise())
    ing.feed(
        [
            ev("connection authorized: user=alice database=app", at=T0),
            ev("connection authorized: user=bob database=app", at=T0 + timedelta(seconds=30)),
            ev(
                "could not write block 7 of temp file",
                sev=Severity.ERROR,
                at=T0 + timedelta(minutes=1),
            ),
            ev("connection authorized: user=carol database=web", service="pgbouncer", host="db-02"),
        ]
    )
    summary = ing.close()
    assert summary.events == 4 and summary.new_templates == 2
    with engine.connect() as conn:
        templates = Session(conn).scalars(select(Template).order_by(Template.id)).all()
        assert [t.count for t in templates] == [3, 1]
        assert templates[0].max_severity == Severity.INFO
        assert templates[1].max_severity == Severity.ERROR
        assert templates[0].first_seen == T0
        assert conn.execute(select(func.count()).select_from(Event)).scalar_one() == 4
        per_service = conn.execute(
            select(ServiceTemplate.service, func.sum(ServiceTemplate.count)).group_by(
                ServiceTemplate.service
            )
        ).all()
        assert sorted((s, int(n)) for s, n in per_service) == [("pgbouncer", 1), ("postgres", 3)]
        minutes = conn.execute(
            select(MinuteCount.minute, MinuteCount.service, MinuteCount.count).order_by(
                MinuteCount.minute, MinuteCount.service
            )
        ).all()
    assert [tuple(m) for m in minutes] == [
        (T0, "pgbouncer", 1),
        (T0, "postgres", 2),
        (T0 + timedelta(minutes=1), "postgres", 1),
    ]


def test_counts_accumulate_across_runs_and_template_ids_survive_a_restart(engine) -> None:
    first = Ingestor(engine, noise())
    first.feed([ev("disk /dev/sda1 at 91% capacity"), ev("backup job 17 finished in 12s")])
    first.close()
    ids_before = dict((text, tid) for tid, text in load_templates(engine))

    second = Ingestor(engine, noise())  # a new process: the miner is rebuilt from the store
    second.feed([ev("disk /dev/sdb2 at 95% capacity", at=T0 + timedelta(minutes=3))])
    assert second.close().new_templates == 0
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Template.template, Template.count)).all())
        last = conn.execute(select(func.max(Template.last_seen))).scalar_one()
    assert load_templates(engine) and {t for t in rows} == set(ids_before)
    assert sum(rows.values()) == 3
    assert last == T0 + timedelta(minutes=3)


def test_a_template_that_generalises_keeps_its_id_in_the_store(engine) -> None:
    ing = Ingestor(engine, noise(), batch_size=1)
    ing.feed([ev("session opened for user alice by systemd")])
    ing.feed([ev("session opened for user bob by systemd")])
    ing.close()
    with engine.connect() as conn:
        rows = conn.execute(select(Template.id, Template.template, Template.count)).all()
    assert len(rows) == 1
    assert rows[0][2] == 2
    assert "<*>" in rows[0].template


def test_noise_drops_and_rejections_are_counted_never_lost(engine) -> None:
    rules = NoiseConfig(
        rules=[
            NoiseRuleConfig(name="guessers", service="sshd", match="^Failed password"),
            NoiseRuleConfig(name="chatty-cron", service="CRON", action="downgrade"),
        ]
    )
    ing = Ingestor(engine, NoiseFilter.from_config(rules))
    ing.feed(
        [
            ev(
                "Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2",
                service="sshd",
            ),
            ev("(root) CMD (run-parts /etc/cron.hourly)", service="CRON", sev=Severity.ERROR),
            Rejected("app.log", 7, "malformed JSON: Expecting value: line 1 column 1", "{oops"),
            Rejected("app.log", 8, "empty line"),
        ]
    )
    summary = ing.close()
    assert summary.dropped == {"guessers": 1}
    assert summary.downgraded == {"chatty-cron": 1}
    assert summary.rejected == {"malformed JSON": 1}
    assert summary.skipped_empty == 1
    stats = collect_stats(engine)
    assert stats.dropped_by_rule == {"guessers": 1}
    assert stats.downgraded_by_rule == {"chatty-cron": 1}
    assert stats.rejected_by_reason == {"malformed JSON": 1}
    assert stats.recent_rejections[0]["line"] == 7
    assert stats.events_stored == 1
    with engine.connect() as conn:
        cron = conn.execute(select(Event.severity)).scalar_one()
        assert cron == Severity.DEBUG
        assert conn.execute(select(func.count()).select_from(Rejection)).scalar_one() == 1


def test_the_cursor_is_committed_with_its_batch(engine) -> None:
    ing = Ingestor(engine, noise())
    ing.add(ev("worker started"))
    ing.set_cursor("file:/var/log/app.log", "inode=12:offset=4096")
    ing.flush()
    with engine.connect() as conn:
        row = Session(conn).scalars(select(IngestCursor)).one()
    assert (row.source, row.cursor) == ("file:/var/log/app.log", "inode=12:offset=4096")


def test_attributes_and_long_messages_round_trip(engine) -> None:
    long = "x" * 65_536
    ing = Ingestor(engine, noise())
    ing.feed(
        [
            LogEvent(
                T0, "h", "s", Severity.INFO, long, "t", {"_PID": "42", "weird \u2603": [1]}, True
            ),
            ev("unicode ☃ — ok"),
        ]
    )
    ing.close()
    with engine.connect() as conn:
        rows = Session(conn).scalars(select(Event).order_by(Event.id)).all()
    assert rows[0].message == long and rows[0].truncated is True
    assert rows[0].attributes == {"_PID": "42", "weird \u2603": [1]}
    assert rows[1].message == "unicode ☃ — ok" and rows[1].attributes is None
    assert rows[1].truncated is False
    with engine.connect() as conn:  # stored as each backend stores a boolean
        raw = conn.exec_driver_sql("SELECT truncated FROM events ORDER BY id").scalars().all()
    assert raw == [1, 0] and all(
        type(v) is (bool if engine.dialect.name == "postgresql" else int) for v in raw
    )


def test_attribute_values_orjson_cannot_write_are_stored_as_json_writes_them(engine) -> None:
    # Written by orjson, except what it refuses and `json` writes: an integer beyond 64
    # bits (a JSONL line's `"trace": 123456789012345678901234567890`); keys that are not
    # strings become strings either way. Every backend reads back what `json` would.
    odd = [
        {"big": 2**70, "neg": -(2**64)},
        {"nested": {"a": [1, 2.5, None, True]}, "snow": "\u2603 \u00e9", "ctl": "a\tb"},
        {"f": 0.1, "e": 1e16, "small": 5e-324},
    ]
    ing = Ingestor(engine, noise())
    ing.feed(
        [LogEvent(T0, "h", "s", Severity.INFO, f"line {i}", "t", a) for i, a in enumerate(odd)]
    )
    ing.close()
    with engine.connect() as conn:
        got = [r.attributes for r in Session(conn).scalars(select(Event).order_by(Event.id))]
    assert got == odd


def test_tuple_rows_in_any_column_order_store_what_dict_rows_store(engine) -> None:
    rows = [
        {
            "ts": T0 + timedelta(seconds=i),
            "host": f"h{i}",
            "service": "s",
            "severity": i,
            "template_id": 7 + i,
            "message": f"m{i} ☃",
            "source": "t",
            "attributes": {"pid": i} if i else None,
            "truncated": bool(i),
        }
        for i in range(3)
    ]
    order = ["truncated", "message", "ts", "attributes", "host", "template_id", "service",
             "severity", "source"]  # fmt: skip
    with engine.begin() as conn:
        bulk.executemany(conn, Event.__table__.insert(), Event.__table__, rows)
        bulk.executemany(
            conn,
            Event.__table__.insert(),
            Event.__table__,
            [tuple(r[c] for c in order) for r in rows],
            columns=order,
        )
    with engine.connect() as conn:
        got = Session(conn).scalars(select(Event).order_by(Event.id)).all()
    stored = [{c: getattr(e, c) for c in order} for e in got]
    assert stored[:3] == stored[3:] == rows


def test_datetimes_written_twice_in_a_transaction_are_converted_once() -> None:
    t = datetime(2026, 3, 4, 10, 0, 0, 250, tzinfo=UTC)
    with bulk.shared_datetimes():
        first = bulk._sqlite_datetime(t)
        assert bulk._sqlite_datetime(t.replace()) is first  # an equal time: the same text
        assert first == "2026-03-04 10:00:00.000250"
        assert bulk._naive_utc(t) is bulk._naive_utc(t.replace())
        # Berlin's 02:30 of 2026-10-25 happens twice; its two readings compare equal but
        # are an hour apart in UTC, and each is written as what it is.
        berlin = ZoneInfo("Europe/Berlin")
        a, b = (datetime(2026, 10, 25, 2, 30, tzinfo=berlin, fold=f) for f in (0, 1))
        assert a == b
        assert bulk._sqlite_datetime(a) == "2026-10-25 00:30:00.000000"
        assert bulk._sqlite_datetime(b) == "2026-10-25 01:30:00.000000"
    assert bulk._sqlite_datetime(t) is not first  # nothing is kept after the block
    assert bulk._sqlite_datetime(t) == first and bulk._sqlite_datetime(None) is None


@pytest.mark.parametrize(
    "t",
    [
        datetime(2026, 3, 4, 10, 0, 0, 250, tzinfo=UTC),
        datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
        datetime(1, 1, 1, 0, 0, 0, 1),  # naive, the smallest year: four digits
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, 5, 7, tzinfo=ZoneInfo("Europe/Berlin"), fold=1),
    ],
)
def test_sqlite_datetimes_are_written_as_sqlalchemy_writes_them(t: datetime) -> None:
    from sqlalchemy.dialects.sqlite import DATETIME
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    naive = t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)
    written = DATETIME().bind_processor(SQLiteDialect_pysqlite())(naive)
    assert bulk._sqlite_datetime(t) == written
    with bulk.shared_datetimes():
        assert bulk._sqlite_datetime(t) == written


def test_json_columns_refuse_what_json_refuses() -> None:
    # orjson would write a datetime in its own form; the store's JSON never held one.
    with pytest.raises(TypeError):
        bulk._json({"at": T0})
    assert bulk._json({1: "a"}) == '{"1":"a"}'  # as json.dumps makes keys strings
    assert bulk._json({"x": float("nan")}) == '{"x":null}'  # JSON every backend takes
    assert bulk._json(None) is None


def test_a_repeated_secret_is_redacted_and_counted_every_time(engine) -> None:
    # Redaction is remembered per message (`RepeatMemo`); a message too long to be
    # remembered is redacted all the same. A GitHub token in a deploy script's line.
    token = "ghp_" + "A1b2C3d4E5" * 4
    short = f"git clone https://{token}@github.com/acme/app.git failed"
    long = f"deploy: {'x' * 2_000} token={token} rejected"
    ing = Ingestor(engine, noise())
    ing.feed(
        [ev(msg, at=T0 + timedelta(seconds=i)) for i, msg in enumerate([short] * 3 + [long] * 2)]
    )
    assert ing.close().redacted == 5
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT message FROM events ORDER BY id")).scalars().all()
    assert len(stored) == 5 and not any(token in m for m in stored)
    assert all(REDACTED in m for m in stored)


def test_retention_purges_old_events_but_keeps_counts_longer(engine) -> None:
    ing = Ingestor(engine, noise())
    ing.feed(
        [
            ev("backup finished", at=T0 - timedelta(days=10)),
            ev("worker pool resized to 4", at=T0),
        ]
    )
    ing.close()
    templates_before = load_templates(engine)
    gone, live = (
        SourceHealthRecord(source=name, process="p:1", kind="file", updated_at=at)
        for name, at in (("file:/old.log", T0 - timedelta(days=8)), ("file:/a.log", T0))
    )
    record_source_health(engine, [gone, live])
    result = purge(engine, T0, event_days=7, count_days=90)
    assert result.events == 1 and result.count_rows == 0 and result.sources == 1
    with engine.connect() as conn:
        assert read_source_health(conn) == [live]
    result = purge(engine, T0 + timedelta(days=95), event_days=7, count_days=90)
    assert result.events == 1 and result.count_rows == 2
    assert load_templates(engine) == templates_before and len(templates_before) == 2


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(StoreError) as exc:
        open_engine("postgresql+psycopg://admin:hunter2@127.0.0.1:1/logs")
    assert "hunter2" not in str(exc.value)
    assert "127.0.0.1:1" in str(exc.value)


def test_an_invalid_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        open_engine("not a url")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_database_file_is_reported_and_nothing_stored_is_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    engine = open_engine(url)
    ing = Ingestor(engine, noise())
    ing.feed([ev("stored before")])
    ing.close()
    engine.dispose()
    (tmp_path / "ro.db").chmod(stat.S_IRUSR)
    engine = create_store_engine(url)
    ing = Ingestor(engine, noise())
    ing.add(ev("never stored"))
    with pytest.raises(StoreError, match="read-only"):
        ing.flush()
    assert collect_stats(engine).events_stored == 1


def test_a_read_only_database_is_reported_even_for_root(tmp_path: Path) -> None:
    """SQLite's own read-only mode, which root cannot bypass."""
    path = tmp_path / "ro.db"
    engine = open_engine(f"sqlite:///{path}")
    first = Ingestor(engine, noise())
    first.feed([ev("stored before")])
    first.close()
    engine.dispose()
    ro = create_store_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    ing = Ingestor(ro, noise())
    ing.add(ev("never stored"))
    with pytest.raises(StoreError, match="read-only"):
        ing.flush()
    assert collect_stats(ro).events_stored == 1


def test_reason_categories_drop_quoted_values() -> None:
    assert reason_category("malformed JSON: Expecting value") == "malformed JSON"
    assert reason_category("unparsable timestamp 'yesterday' in field ts") == (
        "unparsable timestamp in field ts"
    )
    assert reason_category("") == "rejected"


def test_counters_table_is_shared_by_every_kind_of_count(engine) -> None:
    ing = Ingestor(engine, noise())
    ing.feed([Rejected("a", 1, "missing timestamp"), Rejected("a", 2, "missing timestamp")])
    ing.close()
    with engine.connect() as conn:
        rows = conn.execute(select(Counter.name, Counter.key, Counter.count)).all()
    assert [tuple(r) for r in rows] == [("rejected", "missing timestamp", 2)]


def test_a_store_in_a_read_only_directory_says_why_it_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read-only mount (root ignores permission bits, so the directory's state is what
    # os.access reports): SQLite's WAL needs NAME-wal and NAME-shm beside the file.
    db = tmp_path / "logvigil.db"
    db.write_bytes(b"SQLite format 3\0")
    error = sqlite3.OperationalError("unable to open database file")
    monkeypatch.setattr(database.os, "access", lambda path, mode: Path(path) != tmp_path)
    line = database.describe_db_error(error, f"sqlite:///{db}")
    assert line == (
        f"database {db} cannot be opened: its directory {tmp_path} is read-only and "
        "SQLite needs to create logvigil.db-wal and logvigil.db-shm beside it"
    )
    monkeypatch.undo()  # a writable directory: the driver's reason as it is
    assert database.describe_db_error(error, f"sqlite:///{db}") == (
        f"database {db}: unable to open database file"
    )
