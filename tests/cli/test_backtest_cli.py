"""backtest, incidents and run, as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from daemon_support import start_daemon, stop, stored_messages, wait_for
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.evaluation.synth import Fault, FaultKind, generate_jsonl
from migrations.apply import open_engine

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def oom_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """26 hours of the homelab with postgres OOM-killed after the learning period."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 3, 2, tzinfo=UTC)
    fault = Fault(
        "oom",
        FaultKind.OOM_CASCADE,
        start=datetime(2026, 3, 3, 1, tzinfo=UTC),
        duration=timedelta(minutes=15),
        service="postgres",
    )
    path = tmp_path_factory.mktemp("logs") / "homelab.jsonl"
    with path.open("wb") as f:
        for line in generate_jsonl(26 * 60, start=start, seed=3, faults=[fault]):
            f.write(line)
    return path


def test_backtest_json_prints_the_oom_incident_with_its_root(oom_log: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bt.db'}"
    result = runner.invoke(
        app,
        ["backtest", "--logs", str(oom_log), "--inventory", str(INVENTORY), "--db", db, "--json"],
    )
    assert result.exit_code == 0, result.output
    incidents = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc["suspected_root"] == {"service": "postgres", "host": "db-01"}
    assert {"nextcloud", "nginx"} <= set(inc["services"])
    assert set(inc) >= {
        "id",
        "opened_at",
        "resolved_at",
        "severity",
        "services",
        "hosts",
        "triggers",
        "suspected_root",
        "blast_radius",
    }
    assert inc["triggers"][0].keys() >= {"detector", "service", "host", "at", "summary"}

    listed = runner.invoke(app, ["incidents", "list", "--db", db, "--json"])
    assert [json.loads(x)["id"] for x in listed.stdout.splitlines()] == [inc["id"]]
    shown = runner.invoke(app, ["incidents", "show", str(inc["id"]), "--db", db, "--json"])
    assert json.loads(shown.stdout)["bundle"]["findings"]


def test_backtest_reads_standard_input(oom_log: Path) -> None:
    data = b"".join(oom_log.open("rb").readlines()[:3000])
    result = runner.invoke(app, ["backtest", "-", "--inventory", str(INVENTORY)], input=data)
    assert result.exit_code == 0, result.output
    assert "incident(s)" in result.stdout
    # The summary says how long the replay itself took, start-up left out.
    summary = re.search(
        r"^3,000 lines, .* ticks; replayed in ([0-9.]+) s \(([0-9,]+) lines/s\)$",
        result.stderr,
        re.MULTILINE,
    )
    assert summary is not None, result.stderr
    seconds, rate = float(summary[1]), int(summary[2].replace(",", ""))
    # The seconds are printed rounded to 0.01: the rate lies within what that allows.
    assert 3000 / (seconds + 0.005) <= rate + 1
    assert seconds < 0.005 or rate <= 3000 / (seconds - 0.005) + 1


def test_editing_the_inventory_reshapes_the_incident(oom_log: Path, tmp_path: Path) -> None:
    """Without the dependency edges, the web services' errors are not part of postgres's incident."""
    flat = tmp_path / "flat.yaml"
    text = INVENTORY.read_text()
    import yaml

    inv = yaml.safe_load(text)
    for spec in inv["services"].values():
        spec.pop("depends_on", None)
        spec.pop("calls", None)
    inv.pop("edges", None)
    flat.write_text(yaml.safe_dump(inv))
    result = runner.invoke(app, ["backtest", str(oom_log), "--inventory", str(flat), "--json"])
    incidents = [json.loads(line) for line in result.stdout.splitlines()]
    pg = [i for i in incidents if "postgres" in i["services"]]
    assert pg and "nginx" not in pg[0]["services"]


def test_a_bad_inventory_stops_backtest_with_its_line(tmp_path: Path, oom_log: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text("services:\n  web:\n    depends_on: [nowhere]\n")
    result = runner.invoke(app, ["backtest", str(oom_log), "--inventory", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3" in result.output and "nowhere" in result.output


def test_backtest_needs_its_logs_exactly_once() -> None:
    assert runner.invoke(app, ["backtest"]).exit_code == 2
    assert runner.invoke(app, ["backtest", "a.log", "--logs", "b.log"]).exit_code == 2


def test_incidents_show_of_an_unknown_id_is_a_clear_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    open_engine(db).dispose()  # a store without incidents (a missing one is another error)
    result = runner.invoke(app, ["incidents", "show", "99", "--db", db])
    assert result.exit_code == 2 and "no incident 99" in result.output


def test_eval_of_a_missing_suite_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--suite", str(tmp_path / "none")])
    assert result.exit_code == 2


def test_the_daemon_ingests_a_file_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"sources:\n  - type: file\n    path: {log}\n    format: raw\n"
        f"graph:\n  inventory: {INVENTORY}\n"
    )
    daemon_log = tmp_path / "daemon.log"
    proc = start_daemon(cfg, log=daemon_log)
    try:
        with log.open("a") as f:
            f.write("worker 1 started\nworker 2 started\n")

        wait_for(
            lambda: len(stored_messages(tmp_path / "data" / "logvigil.db")) == 2,
            timeout=120,
            every=0.5,
            what="both lines in the store",
            proc=proc,
            log=daemon_log,
        )
    finally:
        code = stop(proc)
    assert code == 0, daemon_log.read_text()
    assert "Traceback" not in daemon_log.read_text()
    stats = runner.invoke(app, ["stats", "--json", "--config", str(cfg)])
    assert json.loads(stats.stdout)["events_stored"] == 2


def test_backtest_tells_to_reverse_a_log_listed_newest_first(tmp_path: Path) -> None:
    # `journalctl -r -o short`: the newest line first, as some exports list them.
    oldest_first = [
        f"Mar 14 06:{m:02d}:{s:02d} web-01 sshd[{2404 + m}]: Failed password for root from "
        f"218.65.30.126 port {52764 + m} ssh2"
        for m in range(30)
        for s in (1, 3)
    ]
    log = tmp_path / "auth.log"
    log.write_text("\n".join(reversed(oldest_first)) + "\n")
    result = runner.invoke(
        app, ["backtest", str(log), "--format", "syslog", "--year", "2016", "-i", str(INVENTORY)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "clock: the lines of web-01 run newest first (59 of 59 steps of their time go back"
        in " ".join(result.stderr.split())
    )
    assert "tac FILE" in result.stderr
    log.write_text("\n".join(oldest_first) + "\n")
    result = runner.invoke(
        app, ["backtest", str(log), "--format", "syslog", "--year", "2016", "-i", str(INVENTORY)]
    )
    assert "newest first" not in result.stderr
