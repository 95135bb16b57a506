"""`logvigil search` over a real store: the homelab's templates after an OOM cascade, a full
disk and error spikes, backtested through the daemon's code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, update
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.search.templates import UnknownName, search_templates
from logvigil.store.schema import Template

runner = CliRunner()
FAULTS_DAY = datetime(2026, 3, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine(homelab_db: Path) -> Engine:
    return create_engine(f"sqlite:///{homelab_db}")


def cli(homelab_db: Path, *args: str):
    return runner.invoke(app, ["search", *args, "--db", f"sqlite:///{homelab_db}"])


def test_a_hit_says_what_who_when_how_often_and_shows_a_line(engine: Engine) -> None:
    hits = search_templates(engine, "disk full on the nas", limit=3)
    top = hits[0]
    assert "no space left on device" in top.template
    assert top.services == ["backup"] and top.hosts == ["nas-01"]
    assert top.lines == sum(top.by_service.values()) > 0
    assert top.first_seen <= top.last_seen
    assert top.sample is not None and "no space left on device" in top.sample
    assert "<*>" not in top.sample
    assert top.severity in ("error", "critical")  # restic says "Fatal:"


def test_filters_by_service_host_and_time(engine: Engine) -> None:
    every = search_templates(engine, "failed", limit=50)
    assert len({s for h in every for s in h.services}) > 1
    gitea = search_templates(engine, "failed", service="gitea", limit=50)
    assert gitea and all(h.services == ["gitea"] or "gitea" in h.by_service for h in gitea)
    assert all(set(h.by_service) == {"gitea"} for h in gitea)
    nas = search_templates(engine, "failed", host="nas-01", limit=50)
    assert nas and all(h.hosts == ["nas-01"] for h in nas)
    # Before the faults' day the OOM kill had not happened.
    before = search_templates(engine, "oom killed", until=FAULTS_DAY, limit=50)
    assert not any("oom" in h.template.lower() for h in before)
    during = search_templates(engine, "oom killed", since=FAULTS_DAY, limit=5)
    assert any("oom" in h.template.lower() for h in during)
    assert all(h.lines > 0 for h in during)


def test_an_unknown_service_or_host_is_named_with_the_closest_ones(engine: Engine) -> None:
    with pytest.raises(
        UnknownName, match="no service 'postgress' in the store; did you mean postgres"
    ):
        search_templates(engine, "x", service="postgress")
    with pytest.raises(UnknownName, match="did you mean db-01"):
        search_templates(engine, "x", host="db01")


def test_the_cli_prints_a_table_and_json(homelab_db: Path) -> None:
    r = cli(homelab_db, "postgres killed")
    assert r.exit_code == 0, r.output
    assert "templates" in r.stdout and "postgres" in r.stdout and "e.g." in r.stdout
    r = cli(homelab_db, "postgres killed", "--json", "--limit", "2", "--since", "2026-03-03")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["since"] == "2026-03-03T00:00:00+00:00" and len(obj["hits"]) == 2
    assert {"template_id", "template", "services", "hosts", "lines", "sample"} <= obj["hits"][
        0
    ].keys()
    r = cli(homelab_db, "zzzyzzx")
    assert r.exit_code == 0 and "no template matches" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--since", "yesterday"], "--since 'yesterday': expected an ISO 8601 time"),
        (["x", "--since", "2026-03-04", "--until", "2026-03-03"], "is not before --until"),
        (["x", "--host", "nas01"], "did you mean nas-01"),
        (["  "], "give some words"),
        (["x", "--limit", "0"], "--limit"),
    ],
)
def test_bad_options_exit_2_naming_them(homelab_db: Path, args: list[str], message: str) -> None:
    r = cli(homelab_db, *args)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_without_a_store_it_says_so(tmp_path: Path) -> None:
    r = runner.invoke(app, ["search", "x", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_log_text_is_inert_in_the_terminal(tmp_path: Path) -> None:
    """A line that carries rich markup and escapes is shown as text, not styled."""
    log = tmp_path / "hostile.jsonl"
    line = {
        "ts": "2026-03-04T10:00:00Z",
        "host": "h1",
        "service": "app",
        "severity": "error",
        "message": "[bold red]pwned[/] \x1b[31mred\x1b[0m connection refused by [link=http://x]db[/link]",
    }
    log.write_text(json.dumps(line) + "\n")
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert runner.invoke(app, ["ingest", str(log), "--format", "jsonl", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["search", "connection refused", "--db", db])
    assert r.exit_code == 0, r.output
    assert "[bold red]pwned[/]" in r.stdout  # shown literally
    assert "\x1b[" not in r.stdout


def test_the_kept_index_follows_the_templates(tmp_path: Path) -> None:
    """The word index is kept between searches of a store (the web pages search it many
    times) and rebuilt when a template is added or generalises under its id."""
    db = f"sqlite:///{tmp_path / 's.db'}"

    def ingest(message: str) -> None:
        log = tmp_path / "one.jsonl"
        line = {
            "ts": "2026-03-04T10:00:00Z",
            "host": "h1",
            "service": "app",
            "severity": "error",
            "message": message,
        }
        log.write_text(json.dumps(line) + "\n")
        r = runner.invoke(app, ["ingest", str(log), "--format", "jsonl", "--db", db])
        assert r.exit_code == 0, r.output

    ingest("connection refused by the database")
    engine = create_engine(db)
    assert [h.template for h in search_templates(engine, "connection refused")]
    assert search_templates(engine, "certificate expired") == []
    ingest("TLS certificate expired for host mail.example.org")
    assert "certificate expired" in search_templates(engine, "certificate expired")[0].template
    with engine.begin() as conn:  # a template that generalises keeps its id, not its text
        conn.execute(update(Template).values(template=Template.template + " quarantined"))
    assert search_templates(engine, "quarantined")
    engine.dispose()
