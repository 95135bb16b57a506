"""What the commands print is true to the state of the store (issue 13's newcomer findings).

One source of truth for the last tick and the last delivery; a time in the future is
never a negative age; a command that only reads never creates a database; a database
error is one located line; a silence for a service nobody knows is refused; tables in a
pipe print every value whole. Every case runs the real command on a real SQLite file.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from incident_support import INVENTORY, at, finding
from sqlalchemy import insert
from typer.testing import CliRunner

from detector.incidents.manager import IncidentManager
from detector.incidents.topology import InventoryTopology
from graph.inventory import load_inventory
from logvigil.app.leader import record_heartbeat
from logvigil.cli import app
from logvigil.cli.investigate import app as investigate_app
from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseFilter
from logvigil.store.schema import TickRow
from logvigil.store.source_health import SourceHealthRecord, record_source_health
from migrations.apply import open_engine

runner = CliRunner()

NOW = datetime(2026, 3, 4, 16, 0, 30, tzinfo=UTC)
FUTURE = datetime(2199, 1, 1, tzinfo=UTC)


def invoke(*args: str, cli=app):
    result = runner.invoke(cli, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"traceback: {result.exception!r}\n{result.output}"
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"  # LOGVIGIL_DATA_DIR of every test (tests/conftest.py)


def _store(data_dir: Path):
    return open_engine(f"sqlite:///{data_dir / 'logvigil.db'}")


def _event(message: str, ts: datetime, *, service="postgres", host="db-01", source="test"):
    return LogEvent(ts, host, service, Severity.INFO, message, source=source)


# --------------------------------------------------------------------------- last tick


def test_the_last_tick_has_one_source_and_the_leader_shows_its_heartbeat(data_dir: Path) -> None:
    """A leader that has confirmed its lock but not evaluated a minute yet (the first tick
    comes at the next whole minute): no "last tick: never" beside "last tick 37s ago"."""
    engine = _store(data_dir)
    record_heartbeat(
        engine, "db-01:42", int((NOW - timedelta(seconds=37)).timestamp()), took_over=True
    )
    with freeze_time(NOW):
        text = invoke("status").output
        data = json.loads(invoke("status", "--json").output)
    assert "last tick: none yet" in text
    assert "leader: db-01:42 (heartbeat 37s ago)" in text
    assert "last tick 37s ago" not in text and "never" not in text.splitlines()[0]
    assert data["last_tick"] is None
    assert data["leader"]["heartbeat_at"] == "2026-03-04T15:59:53Z"
    assert "last_tick_at" not in data["leader"]

    # The leader evaluates a minute: the one row of `ticks` is the last tick, everywhere.
    tick_at = NOW - timedelta(seconds=25)
    with engine.begin() as conn:
        conn.execute(
            insert(TickRow),
            {
                "at": tick_at,
                "window_start": tick_at.replace(second=0) - timedelta(minutes=1),
                "window_end": tick_at.replace(second=0),
                "duration_ms": 3.25,
                "findings": 0,
                "errors": None,
            },
        )
    record_heartbeat(engine, "db-01:42", int(tick_at.timestamp()), took_over=False)
    engine.dispose()
    with freeze_time(NOW):
        text = invoke("status").output
        data = json.loads(invoke("status", "--json").output)
    assert "last tick: 2026-03-04T16:00:05Z (25s ago; 3.2 ms, 0 findings)" in text
    assert "leader: db-01:42 (heartbeat 25s ago)" in text
    assert data["last_tick"]["at"] == "2026-03-04T16:00:05Z" and data["last_tick"]["age_s"] == 25.0


# --------------------------------------------------------------------------- the future


def test_an_event_dated_2199_is_shown_in_the_future_never_as_a_negative_age(
    data_dir: Path,
) -> None:
    """A remote source whose clock is far ahead hands the store a line dated 2199 (the
    file readers refuse such lines; a live remote source stores what its host says)."""
    engine = _store(data_dir)
    with freeze_time(NOW):  # the ingestor stamps the cursor with the wall clock
        ing = Ingestor(engine, NoiseFilter([]))
        ing.add(_event("GET / 200", NOW - timedelta(minutes=1), service="nginx", host="web-01"))
        ing.add(
            _event("clock says 2199", FUTURE, service="skewed", host="nas-01", source="ssh:nas-01")
        )
        ing.set_cursor("ssh:nas-01", "s=1")
        ing.flush()
    record_source_health(
        engine,
        [
            SourceHealthRecord(
                source="ssh:nas-01",
                process="hub:9",
                kind="ssh_journald",
                updated_at=NOW,
                host="nas-01",
                lines=1,
                last_event_at=FUTURE,
            )
        ],
    )
    engine.dispose()
    with freeze_time(NOW):
        text = invoke("status").output
        data = json.loads(invoke("status", "--json").output)
    line = next(ln for ln in text.splitlines() if ln.startswith("source ssh:nas-01"))
    assert "last event in the future: 2199-01-01 00:00:00 UTC" in line, line
    assert "committed 0s ago" in line
    assert not re.search(r"-\d[\d.]*[smhd] ago", text), text
    src = data["sources"]["ssh:nas-01"]
    assert src["last_event_in_future"] is True and src["event_lag_s"] < 0
    # A service only ever seen in the future has learnt nothing: 0%, not -5 million %.
    skewed = next(s for s in data["learning"] if s["service"] == "skewed")
    assert skewed["progress"] == 0.0 and skewed["first_seen_in_future"]
    assert "skewed: 0% learnt" in text and "first seen in the future: 2199-01-01" in text


# --------------------------------------------------------------------------- last delivery


def test_a_test_delivery_is_the_channels_last_delivery(data_dir: Path) -> None:
    """`notify test` on the console channel (the default): `notify status` and `status`
    then say when it was delivered, not "never"."""
    _store(data_dir).dispose()
    with freeze_time("2026-03-04 10:00:00+00:00"):
        sent = invoke("notify", "test")
    assert sent.exit_code == 0, sent.output
    assert "console: ok delivered" in sent.output
    with freeze_time("2026-03-04 10:05:00+00:00"):
        text = invoke("notify", "status").output
        row = json.loads(invoke("notify", "status", "--json").output)
        status = json.loads(invoke("status", "--json").output)
        status_text = invoke("status").output
    assert (
        "console: ok; 0 pending, 0 unconfirmed, 0 failed; last delivered 2026-03-04T10:00:00Z"
        in text
    )
    assert "never" not in text
    assert row["channel"] == "console" and row["last_sent_at"] == "2026-03-04T10:00:00Z"
    (channel,) = status["channels"]
    assert channel["last_sent_at"] == "2026-03-04T10:00:00Z"
    assert (
        "channel console: ok, 0 pending, 0 unconfirmed, 0 failed, last delivered 2026-03-04T10:00:00Z"
        in (status_text)
    )


def test_a_channel_that_never_delivered_says_never(data_dir: Path) -> None:
    _store(data_dir).dispose()
    text = invoke("notify", "status").output
    assert "console: ok; 0 pending, 0 unconfirmed, 0 failed; last delivered never" in text


# --------------------------------------------------------------------------- no database


READ_ONLY_COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["stats"],
    ["stats", "--json"],
    ["incidents"],
    ["incidents", "list", "--json"],
    ["incidents", "show", "1"],
    ["notify", "status"],
    ["silence", "list"],
    ["prune"],  # writes, but a store that is not there has nothing to prune
]


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=" ".join)
def test_a_read_only_command_on_a_fresh_machine_creates_no_database(
    args: list[str], data_dir: Path
) -> None:
    result = invoke(*args)
    db = data_dir / "logvigil.db"
    assert result.exit_code == 2, result.output
    assert f"error: no database at {db} (run `logvigil run` or `logvigil ingest` first)" in (
        " ".join(result.output.split())
    )
    assert not db.exists() and not data_dir.exists()


def test_investigate_on_a_fresh_machine_creates_no_database(data_dir: Path) -> None:
    for args in (["--incident", "1"], ["--incident", "1", "--rerun", "--llm", "none"]):
        result = invoke(*args, cli=investigate_app)
        assert result.exit_code == 2
        assert "no database at" in result.output and "logvigil ingest" in result.output
    assert not data_dir.exists()


def test_an_explicit_db_url_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "store.db"
    result = invoke("stats", "--db", f"sqlite:///{db}")
    assert result.exit_code == 2 and "no database at" in result.output
    assert not db.parent.exists()


def test_an_empty_file_is_no_logvigil_database_and_is_left_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = invoke("incidents", "--db", f"sqlite:///{db}")
    assert result.exit_code == 2
    assert f"no LogVigil database at {db}: it is empty" in " ".join(result.output.split())
    assert db.stat().st_size == 0


def test_a_file_that_is_not_a_database_is_one_located_line(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 200)
    result = invoke("stats", "--db", f"sqlite:///{db}")
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line == f"error: database {db}: file is not a database"


def test_the_writing_commands_still_create_the_store(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_text(
        json.dumps(
            {
                "ts": "2026-03-04T10:00:00Z",
                "host": "db-01",
                "service": "postgres",
                "message": "checkpoint complete",
            }
        )
        + "\n"
    )
    assert invoke("ingest", str(log)).exit_code == 0
    assert (data_dir / "logvigil.db").is_file()
    assert json.loads(invoke("stats", "--json").output)["events_stored"] == 1


# --------------------------------------------------------------------------- database errors


@pytest.fixture
def incident_store(tmp_path: Path) -> tuple[Path, Path]:
    """A store with one incident (a postgres OOM kill on db-01) and its inventory."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    db = tmp_path / "incidents.db"
    engine = open_engine(f"sqlite:///{db}")
    manager = IncidentManager(engine, InventoryTopology(load_inventory(inventory)))
    manager.process([finding("postgres", "db-01", 0, detector="primitive", kind="oom_kill")], at(2))
    engine.dispose()
    return db, inventory


def test_a_rerun_on_a_read_only_database_is_one_located_line(
    incident_store: tuple[Path, Path], tmp_path: Path
) -> None:
    """SQLite's own read-only mode (root ignores file permissions): storing the new
    report fails. One line: the database, the operation, the reason; no SQL, no
    parameters, no report."""
    db, inventory = incident_store
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"graph:\n  inventory: {inventory}\n")
    first = invoke(
        "--incident", "1", "--db", f"sqlite:///{db}", "--config", str(cfg), cli=investigate_app
    )
    assert first.exit_code == 0, first.output  # investigated and stored while writable
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    result = invoke(
        "--incident",
        "1",
        "--rerun",
        "--llm",
        "none",
        "--db",
        url,
        "--config",
        str(cfg),
        cli=investigate_app,
    )
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert lines == [
        f"error: incident 1: database {db} is read-only: cannot update incidents: "
        "attempt to write a readonly database"
    ], result.output
    for leak in ("[SQL:", "UPDATE incidents SET", "[parameters:", '"incident_id"', "sqlalche.me"):
        assert leak not in result.output
    # The stored replay still reads: nothing was half-written.
    replay = invoke("--incident", "1", "--db", url, "--json", cli=investigate_app)
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.output)["incident_id"] == 1


# --------------------------------------------------------------------------- silences


@pytest.fixture
def known_store(data_dir: Path, tmp_path: Path) -> Path:
    """A store that has seen postgres on db-01, and an inventory naming nginx on web-01."""
    engine = _store(data_dir)
    ing = Ingestor(engine, NoiseFilter([]))
    ing.add(_event("checkpoint complete", NOW))
    ing.flush()
    engine.dispose()
    cfg = tmp_path / "logvigil.yaml"
    (tmp_path / "inventory.yaml").write_text(
        "hosts:\n  web-01: {}\nservices:\n  nginx: {hosts: [web-01]}\n"
    )
    cfg.write_text(f"graph:\n  inventory: {tmp_path / 'inventory.yaml'}\n")
    return cfg


def _add(cfg: Path, *args: str):
    return invoke(
        "silence", "add", "--for", "2h", "--reason", "upgrade", "--config", str(cfg), *args
    )


def test_a_silence_for_an_unknown_service_is_refused_with_a_suggestion(known_store: Path) -> None:
    result = _add(known_store, "--service", "postgress")
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "--service 'postgress': unknown service" in out
    assert "never seen in the store" in out and "did you mean 'postgres'?" in out
    assert "--force" in out
    result = _add(known_store, "--service", "nosuch")
    assert result.exit_code == 2 and "did you mean" not in result.output
    result = _add(known_store, "--host", "db-1")
    assert result.exit_code == 2 and "did you mean 'db-01'" in " ".join(result.output.split())
    # Nothing was stored by a refused silence.
    assert "no active silences" in invoke("silence", "list", "--config", str(known_store)).output


def test_a_silence_for_a_known_service_or_host_is_accepted(known_store: Path) -> None:
    assert _add(known_store, "--service", "postgres").exit_code == 0  # seen in the store
    assert _add(known_store, "--service", "nginx", "--host", "web-01").exit_code == 0  # inventory
    assert _add(known_store, "--host", "db-01").exit_code == 0
    rows = invoke("silence", "list", "--json", "--config", str(known_store)).output.splitlines()
    assert len(rows) == 3


def test_force_accepts_a_service_not_seen_yet(known_store: Path) -> None:
    result = _add(known_store, "--service", "grafana", "--force")
    assert result.exit_code == 0, result.output
    assert "silence 1: grafana muted until" in result.output


# --------------------------------------------------------------------------- piped tables


def test_piped_tables_print_every_value_whole(
    incident_store: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CliRunner's stdout is not a terminal, like a pipe; COLUMNS says the terminal the
    pipe started from is narrow. Every row stays one line with whole timestamps."""
    monkeypatch.setenv("COLUMNS", "40")
    db, _ = incident_store
    url = f"sqlite:///{db}"
    listed = invoke("incidents", "list", "--db", url)
    assert listed.exit_code == 0, listed.output
    row = next(ln for ln in listed.output.splitlines() if "2026-03-04 10:02:00" in ln)
    assert "postgres on db-01" in row and "open" in row
    shown = invoke("incidents", "show", "1", "--db", url).output
    assert shown.splitlines()[0] == "incident 1: postgres OOM-killed on db-01"
    trig = next(ln for ln in shown.splitlines() if "2026-03-04T10:01:00" in ln)
    assert "primitive" in trig and "primitive on postgres" in trig

    engine = open_engine(url)
    ing = Ingestor(engine, NoiseFilter([]))
    ing.add(
        _event(
            "checkpoint complete",
            datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
            service="a-service-with-a-rather-long-name",
        )
    )
    ing.flush()
    engine.dispose()
    stats = invoke("stats", "--db", url).output
    row = next(ln for ln in stats.splitlines() if "a-service-with-a-rather-long-name" in ln)
    assert "2026-03-03 10:00" in row

    cfg_silence = _add_silence_row(url)
    listed = invoke("silence", "list", "--all", "--db", url).output
    row = next(ln for ln in listed.splitlines() if "postgres" in ln)
    assert cfg_silence in row and "a reason long enough to have wrapped at forty columns" in row


def _add_silence_row(url: str) -> str:
    with freeze_time("2026-03-04 10:00:00+00:00"):
        r = invoke(
            "silence",
            "add",
            "--service",
            "postgres",
            "--for",
            "2h",
            "--reason",
            "a reason long enough to have wrapped at forty columns",
            "--force",
            "--db",
            url,
        )
    assert r.exit_code == 0, r.output
    return "2026-03-04T12:00:00Z"


def test_json_stays_the_machine_format_in_a_pipe(incident_store: tuple[Path, Path]) -> None:
    db, _ = incident_store
    (line,) = invoke("incidents", "list", "--json", "--db", f"sqlite:///{db}").output.splitlines()
    assert json.loads(line)["opened_at"] == "2026-03-04T10:02:00Z"
