"""A dependant is "affected" by the root only when the order of events supports it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident_support import at, finding
from typer.testing import CliRunner

from detector.incidents.root import RootCandidate
from investigate.analysis.impact import impact_of
from logvigil.cli import app
from logvigil.cli.investigate import app as investigate_app

ROOT = RootCandidate("postgres", "postgres", "db-01", at(10), 1.0, primitive="oom_kill")
BLAST = [
    {"service": "gitea", "depth": 1, "path": ["postgres", "gitea"]},
    {"service": "nextcloud", "depth": 1, "path": ["postgres", "nextcloud"]},
    {"service": "nginx", "depth": 2, "path": ["postgres", "nextcloud", "nginx"]},
]


def test_a_dependant_that_failed_before_the_root_is_not_affected_by_it() -> None:
    findings = [
        finding("postgres", "db-01", 10, detector="primitives", kind="oom_kill"),
        finding("gitea", "app-02", 3),  # seven minutes before postgres was killed
        finding("nextcloud", "web-01", 10.5),  # after it (same minute's rounding too)
    ]
    items = {i.service: i for i in impact_of(ROOT, BLAST, findings, {})}
    assert items["nextcloud"].status == "affected"
    assert items["gitea"].status == "at_risk"
    assert (
        "its own trouble began at" in items["gitea"].summary
        and "before postgres" in items["gitea"].summary
    )
    assert items["nginx"].status == "at_risk"  # still quiet


def test_a_minute_of_rounding_is_not_before() -> None:
    findings = [finding("gitea", "app-02", 10 - 0.9)]
    (gitea, *_) = impact_of(ROOT, BLAST[:1], findings, {})
    assert gitea.status == "affected"
    assert ROOT.first_at - findings[0].started_at < timedelta(minutes=1)


# -- end to end: the case, through backtest and investigate --------------------------


def test_a_full_disk_on_another_host_is_its_own_incident_and_report(tmp_path) -> None:
    # The shipped inventory: backup (restic on nas-01) calls postgres (db-01). Postgres is
    # OOM-killed; 90 s later restic fails on a full disk. Two troubles, two incidents, and
    # no report says the backup failed because of postgres.
    t0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

    def row(s: float, host: str, service: str, message: str) -> str:
        ts = (t0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z")
        return json.dumps({"ts": ts, "host": host, "service": service, "message": message})

    lines = [row(i * 20, "db-01", "postgres", "checkpoint starting: time") for i in range(6)]
    lines.append(row(125, "db-01", "kernel", OOM_POSTGRES))
    lines.append(row(215, "nas-01", "restic", RESTIC_ENOSPC))
    lines += [row(300 + i * 20, "db-01", "postgres", "database system is ready") for i in range(3)]
    log = tmp_path / "two.jsonl"
    log.write_text("\n".join(lines) + "\n")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    inventory = Path(__file__).resolve().parents[2] / "inventory.yaml"
    replay = CliRunner().invoke(
        app, ["backtest", str(log), "--db", db, "--inventory", str(inventory), "--json"]
    )
    assert replay.exit_code == 0, replay.output
    incidents = [json.loads(x) for x in replay.stdout.splitlines()]
    roots = [(i["suspected_root"]["service"], i["suspected_root"]["host"]) for i in incidents]
    assert roots == [("postgres", "db-01"), ("backup", "nas-01")]
    assert "backup" not in incidents[0]["services"]
    config = tmp_path / "logvigil.yaml"
    config.write_text(f"graph:\n  inventory: {inventory}\n")
    for incident in incidents:
        report = CliRunner().invoke(
            investigate_app,
            ["--incident", str(incident["id"]), "--db", db, "--config", str(config)],
        )
        assert report.exit_code == 0, report.output
        text = " ".join(report.output.split())
        assert "because it depends on" not in text
        if incident["suspected_root"]["service"] == "backup":
            assert "disk" in text and "postgres" not in text.split("Possible")[0]


#: mm/oom_kill.c (5.x) and restic 0.16's error on a full repository disk.
OOM_POSTGRES = (
    "Out of memory: Killed process 2171 (postgres) total-vm:4152928kB, anon-rss:2048116kB, "
    "file-rss:0kB, shmem-rss:0kB, UID:111 pgtables:6720kB oom_score_adj:0"
)
RESTIC_ENOSPC = (
    "Fatal: unable to save snapshot: write /srv/backup/restic/data/3f/3f78c2: "
    "no space left on device"
)
