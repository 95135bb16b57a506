"""`logvigil install-service --dry-run` and `logvigil status` as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from freezegun import freeze_time
from typer.testing import CliRunner

from logvigil.app.leader import record_heartbeat
from logvigil.app.service_install import UNIT_TEMPLATE, Step, apply, render_unit
from logvigil.app.status import write_status_file
from logvigil.cli import app
from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseFilter
from logvigil.store.source_health import SourceHealthRecord, record_source_health
from migrations.apply import open_engine

runner = CliRunner()
#: The wall clock `logvigil status` reads in these tests.
NOW = datetime(2026, 3, 4, 16, 0, 30, tzinfo=UTC)


def _prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "opt" / "lv"
    exe = prefix / ".venv" / "bin" / "logvigil"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    return prefix


def test_the_unit_is_hardened_and_stops_after_a_tick() -> None:
    unit = UNIT_TEMPLATE.read_text()
    for line in (
        "User=logvigil",
        "StateDirectory=logvigil",
        "ProtectSystem=strict",
        "Environment=HOME=/var/lib/logvigil",
        "NoNewPrivileges=yes",
    ):
        assert line in unit.splitlines()
    stop_s = int(
        next(x for x in unit.splitlines() if x.startswith("TimeoutStopSec=")).split("=")[1]
    )
    assert stop_s > 60, "a tick (60 s) must be able to finish on stop"


def test_the_unit_is_rendered_for_the_prefix_user_and_config_dir(tmp_path: Path) -> None:
    unit = render_unit(
        UNIT_TEMPLATE.read_text(), prefix=Path("/srv/lv"), user="watch", config_dir=Path("/etc/lv")
    )
    lines = unit.splitlines()
    assert "User=watch" in lines and "Group=watch" in lines
    assert "ExecStart=/srv/lv/.venv/bin/logvigil run --config /etc/lv/logvigil.yaml" in lines
    assert "WorkingDirectory=/srv/lv" in lines
    assert "/opt/logvigil" not in unit and "/etc/logvigil" not in unit


def test_install_service_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    result = runner.invoke(
        app,
        [
            "install-service",
            "--dry-run",
            "--user",
            "lv-test-nobody",
            "--prefix",
            str(prefix),
            "--config-dir",
            str(tmp_path / "etc"),
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "useradd --system" in text and "lv-test-nobody" in text
    assert "install -d -m 0750 -o lv-test-nobody -g lv-test-nobody /var/lib/logvigil" in text
    assert "write /etc/systemd/system/logvigil.service" in text
    assert (
        f"ExecStart={prefix}/.venv/bin/logvigil run --config {tmp_path}/etc/logvigil.yaml" in text
    )
    assert "systemctl daemon-reload" in text
    assert "nothing was changed" in text
    assert not (tmp_path / "etc").exists()


def test_install_service_without_the_environment_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["install-service", "--dry-run", "--prefix", str(tmp_path)])
    assert result.exit_code == 2
    assert "uv sync --locked --no-dev" in result.output


def test_a_file_step_writes_the_unit_with_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "units" / "logvigil.service"
    apply([Step("install the unit", path=target, content="[Unit]\n", mode=0o644)])
    assert target.read_text() == "[Unit]\n" and target.stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- status


@freeze_time(NOW)  # the ingestor stamps the cursor with the wall clock, status ages by it
def test_status_shows_sources_learning_leader_and_the_daemons_own_state(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db = f"sqlite:///{data_dir / 'logvigil.db'}"
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {data_dir}\ndetector:\n  learning_period_hours: 24\n")
    engine = open_engine(db)
    now = NOW
    ing = Ingestor(engine, NoiseFilter([]))
    ing.add(
        LogEvent(
            ts=now - timedelta(hours=6),
            host="web-01",
            service="nginx",
            severity=Severity.INFO,
            message="GET / 200",
            source="file:/var/log/nginx.log",
        )
    )
    ing.set_cursor("file:/var/log/nginx.log", "1:10")
    ing.flush()
    record_heartbeat(engine, "db-01:42", int(now.timestamp()), took_over=True)
    # Two machines' ingest processes report their sources through the store.
    record_source_health(
        engine,
        [
            SourceHealthRecord(
                source="file:/var/log/nginx.log",
                process="web-01:7",
                kind="file",
                updated_at=now,
                lines=1,
                last_event_at=now,
                error="/var/log/nginx.log: Permission denied",
            ),
            SourceHealthRecord(
                source="ssh:db-02",
                process="hub-02:9",
                kind="ssh_journald",
                updated_at=now - timedelta(minutes=5),
                host="db-02",
                unreachable_since=now - timedelta(minutes=7),
                unreachable_grace_s=120,
                error="ssh: connect to host db-02 port 22: Connection refused",
            ),
        ],
    )
    engine.dispose()
    write_status_file(
        data_dir / "status.json",
        {
            "version": 1,
            "identity": "db-01:42",
            "role": "all",
            "leader": True,
            "stopped": False,
            "started_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "inventory": {"path": "inventory.yaml", "hosts": 2, "services": 3, "problems": []},
        },
    )
    result = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["leader"]["identity"] == "db-01:42"
    assert data["daemon"]["running"] and data["daemon"]["role"] == "all"
    src = data["sources"]["file:/var/log/nginx.log"]
    assert src["error"].endswith("Permission denied") and src["lag_s"] >= 0
    assert (src["process"], src["kind"], src["running"], src["lines"]) == (
        "web-01:7",
        "file",
        True,
        1,
    )
    remote = data["sources"]["ssh:db-02"]
    assert remote["lag_s"] is None  # it never committed a cursor
    assert remote["host"] == "db-02" and not remote["running"]
    assert remote["unreachable_since"] is not None
    (nginx,) = data["learning"]
    assert nginx["service"] == "nginx" and nginx["learning"]
    assert 0.2 < nginx["progress"] < 0.3
    assert data["inventory"]["services"] == 3
    assert data["open_incidents"] == 0

    text = runner.invoke(app, ["status", "--config", str(cfg)]).output
    assert "leader: db-01:42" in text
    assert "Permission denied" in text
    assert "source ssh:db-02 (ssh_journald, read by hub-02:9)" in text
    assert "db-02 unreachable since" in text and "its process last reported at" in text
    assert "nginx: 25% learnt" in text


def test_status_ages_the_leader_and_the_local_daemon_by_the_wall_clock(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {data_dir}\n")
    engine = open_engine(f"sqlite:///{data_dir / 'logvigil.db'}")
    beat = NOW - timedelta(seconds=90)
    record_heartbeat(engine, "db-01:42", int(beat.timestamp()), took_over=True)
    engine.dispose()
    write_status_file(
        data_dir / "status.json",
        {
            "version": 1,
            "identity": "db-01:42",
            "role": "detect",
            "leader": True,
            "stopped": False,
            "started_at": (beat - timedelta(hours=1)).isoformat(),
            "updated_at": beat.isoformat(),
        },
    )
    with freeze_time(beat + timedelta(seconds=30)):  # the daemon wrote its status 30 s ago
        fresh = json.loads(runner.invoke(app, ["status", "--config", str(cfg), "--json"]).output)
    assert fresh["leader"]["age_s"] == 30.0 and fresh["daemon"]["running"]
    with freeze_time(NOW):
        late = json.loads(runner.invoke(app, ["status", "--config", str(cfg), "--json"]).output)
        text = runner.invoke(app, ["status", "--config", str(cfg)]).output
    assert late["now"] == "2026-03-04T16:00:30Z"
    assert late["leader"]["age_s"] == 90.0 and not late["daemon"]["running"]
    assert "leader: db-01:42 (heartbeat 90s ago)" in text  # its lock, not a tick
    assert "local daemon: not running" in text
