"""The `logvigil` command line, run as a user runs it: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from logvigil.cli import app

runner = CliRunner()

GOOD = [
    {
        "ts": "2026-03-04T10:00:00Z",
        "host": "db-01",
        "service": "postgres",
        "severity": "info",
        "message": "connection authorized: user=alice database=app",
    },
    {
        "ts": "2026-03-04T10:00:05Z",
        "host": "db-01",
        "service": "postgres",
        "severity": "info",
        "message": "connection authorized: user=bob database=app",
    },
    {
        "ts": "2026-03-04T10:01:00Z",
        "host": "db-01",
        "service": "postgres",
        "severity": "error",
        "message": 'could not extend file "base/16384/2619": No space left on device',
    },
    {
        "ts": "2026-03-04T10:01:30Z",
        "host": "web-01",
        "service": "sshd",
        "message": "Failed password for invalid user admin from 203.0.113.5 port 4711 ssh2",
    },
]


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def run(*args: str, input: str | bytes | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"traceback: {result.exception!r}\n{result.output}"
    return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_demo_finds_every_injected_fault_and_pages_nothing_else() -> None:
    result = run("demo", "--days", "2")
    assert result.exit_code == 0, result.output
    assert "every fault caught, nothing else paged" in result.output
    assert "OOM cascade" in result.output and "✓" in result.output


def test_ingest_then_stats_shows_what_was_stored(tmp_path: Path, db: str) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text(jsonl(GOOD))
    result = run("ingest", str(log), "--db", db)
    assert result.exit_code == 0, result.output
    stats = json.loads(run("stats", "--db", db, "--json").stdout)
    # The password guess is kept as a debug line, and counted under its rule.
    assert stats["events_stored"] == 4
    assert stats["templates"] == 3
    assert stats["downgraded_by_rule"] == {"sshd-auth-failures": 1}
    assert stats["dropped_by_rule"] == {}
    assert stats["services"][0]["service"] == "postgres"
    assert stats["services"][0]["errors"] == 1


def test_ingest_reads_standard_input(db: str) -> None:
    result = run("ingest", "-", "--db", db, input=jsonl(GOOD))
    assert result.exit_code == 0, result.output
    assert json.loads(run("stats", "--db", db, "--json").stdout)["events_stored"] == 4


def test_rejected_lines_make_a_partial_exit_and_keep_everything_else(
    tmp_path: Path, db: str
) -> None:
    log = tmp_path / "mixed.jsonl"
    log.write_bytes(
        jsonl(GOOD[:2]).encode()
        + b"{not json\n"
        + b'{"host": "x", "message": "no timestamp"}\n'
        + b"\n"
        + jsonl(GOOD[2:3]).encode()
    )
    result = run("ingest", str(log), "--db", db)
    assert result.exit_code == 1, result.output
    assert "mixed.jsonl:3" in result.output
    stats = json.loads(run("stats", "--db", db, "--json").stdout)
    assert stats["events_stored"] == 3
    assert sum(stats["rejected_by_reason"].values()) == 2
    assert {r["line"] for r in stats["recent_rejections"]} == {3, 4}


def test_a_second_ingest_adds_to_the_first(tmp_path: Path, db: str) -> None:
    log = tmp_path / "a.jsonl"
    log.write_text(jsonl(GOOD[:3]))
    run("ingest", str(log), "--db", db)
    run("ingest", str(log), "--db", db)
    stats = json.loads(run("stats", "--db", db, "--json").stdout)
    assert stats["events_stored"] == 6 and stats["templates"] == 2


def test_a_missing_file_is_a_usage_error(tmp_path: Path, db: str) -> None:
    result = run("ingest", str(tmp_path / "nope.log"), "--db", db)
    assert result.exit_code == 2
    assert "nope.log: no such file" in result.output


def test_an_unknown_format_is_a_usage_error(tmp_path: Path, db: str) -> None:
    log = tmp_path / "a.log"
    log.write_text("x\n")
    result = run("ingest", str(log), "--format", "xml", "--db", db)
    assert result.exit_code == 2
    assert "unknown --format 'xml'" in result.output


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_text(jsonl(GOOD))
    result = run("ingest", str(log), "--db", "postgresql+psycopg://u:s3cret@127.0.0.1:1/x")
    assert result.exit_code == 2
    assert "127.0.0.1:1" in result.output and "s3cret" not in result.output


def test_a_bad_config_file_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("detector:\n  tick_secnds: 5\n")
    result = run("check-config", str(cfg))
    assert result.exit_code == 2
    assert f"{cfg}:2: detector.tick_secnds: unknown key 'tick_secnds'" in result.output
    assert 'did you mean "tick_seconds"' in result.output


def test_check_config_accepts_the_shipped_example() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "logvigil.yaml"
    result = run("check-config", str(example))
    assert result.exit_code == 0, result.output


def test_mine_jsonl_prints_one_object_per_input_line_in_order(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "worker 1 started in 12ms\n"
        "worker 2 started in 15ms\n"
        "cache flushed\n"
        "worker 3 started in 9ms\n"
    )
    result = run("mine", str(log), "--format", "raw", "--jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    ids = [r["template_id"] for r in rows]
    assert ids[0] == ids[1] == ids[3] != ids[2]
    assert rows[3]["template"] == "worker <*> started in <*>"


def test_mine_shows_a_pattern_table(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"job {i} done in {i * 3}s\n" for i in range(20)) + "disk full\n")
    result = run("mine", str(log), "--format", "raw")
    assert result.exit_code == 0
    assert "2 templates from 21 lines" in result.stdout
    assert "job <*> done in <*>" in result.stdout


def test_mine_shows_templates_with_their_secrets_redacted(tmp_path: Path) -> None:
    token = "k9F2mQ7vX1pL8sD4hJ6gT3rY5uI0oP2aS4dF6gH8jK1lZ3xC5vB7nM9qW2eR4-ZqWeRt"
    log = tmp_path / "notifier.log"
    log.write_text(f"webhook https://discord.com/api/webhooks/1187654321098765432/{token} failed\n")
    result = run("mine", str(log), "--format", "raw", "--jsonl")
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["template"] == "webhook https://discord.com/api/webhooks/<redacted> failed"


def test_mine_redacts_a_repeated_secret_on_every_line(tmp_path: Path) -> None:
    # Redaction is remembered per message (`memo.answered`), a message over 1,024
    # characters is redacted each time: a webhook's secret in a notifier's lines.
    token = "k9F2mQ7vX1pL8sD4hJ6gT3rY5uI0oP2aS4dF6gH8jK1lZ3xC5vB7nM9qW2eR4-ZqWeRt"
    short = f"webhook https://discord.com/api/webhooks/1187654321098765432/{token} failed"
    long = f"{'x' * 2_000} {short}"
    log = tmp_path / "notifier.log"
    log.write_text("".join(f"{line}\n" for line in [short] * 3 + [long] * 2))
    result = run("mine", str(log), "--format", "raw", "--jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5 and all("<redacted>" in r["template"] for r in rows)
    assert not any(token in r["template"] for r in rows)


def test_mine_reports_rejected_lines_in_jsonl(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_bytes(jsonl(GOOD[:1]).encode() + b"[1, 2]\n")
    result = run("mine", str(log), "--format", "jsonl", "--jsonl")
    assert result.exit_code == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["line"] == 1 and "template_id" in rows[0]
    assert rows[1]["line"] == 2 and rows[1]["error"]


def test_hostile_bytes_never_crash_ingest(tmp_path: Path, db: str) -> None:
    log = tmp_path / "hostile.log"
    log.write_bytes(
        b"\xff\xfe\xfa garbage \x00\x01\x1b[31m red\n"
        + b"A" * 200_000
        + b"\n"
        + b"\n\n\r\n"
        + b"ok line after the storm\n"
    )
    result = run("ingest", str(log), "--format", "raw", "--db", db)
    assert result.exit_code in (0, 1), result.output
    stats = json.loads(run("stats", "--db", db, "--json").stdout)
    assert stats["events_stored"] >= 2


def test_prune_applies_the_configured_retention(tmp_path: Path, db: str) -> None:
    log = tmp_path / "old.jsonl"
    log.write_text(jsonl(GOOD))  # 2026-03-04 10:00 to 10:01
    run("ingest", str(log), "--db", db)
    with freeze_time("2026-03-11 09:59:00"):  # within 7 days of every event
        kept = run("prune", "--db", db)
    assert kept.exit_code == 0, kept.output
    assert "purged 0 events" in kept.output
    with freeze_time("2026-03-20 12:00:00"):  # 7 days and more after every event
        result = run("prune", "--db", db)
    assert result.exit_code == 0, result.output
    assert "purged 4 events" in result.output
    stats = json.loads(run("stats", "--db", db, "--json").stdout)
    assert stats["events_stored"] == 0 and stats["templates"] == 3
