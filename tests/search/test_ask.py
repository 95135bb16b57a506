"""`logvigil ask`, deterministic, over the backtested homelab (faults on 2026-03-03: postgres
OOM-killed at 01:00, the backup disk full at 03:00, nextcloud and gitea erroring at 04:00,
a postgres error spike at 05:00; all times UTC)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, func, select
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.core.events import Severity
from logvigil.search.ask import answer_question
from logvigil.store.schema import IncidentRow, MinuteCount, Template

runner = CliRunner()
UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine(homelab_db: Path) -> Engine:
    return create_engine(f"sqlite:///{homelab_db}")


def ask(engine: Engine, question: str):
    return answer_question(engine, question, now=NOW, zone=UTC_ZONE)


def test_what_happened_on_a_host_lists_its_incidents_with_their_roots(engine: Engine) -> None:
    a = ask(engine, "what happened on db-01 on March 3?")
    assert a.hosts == ("db-01",) and a.phrase == "on march 3"
    assert a.start == datetime(2026, 3, 3, tzinfo=UTC)
    assert a.incidents and all("db-01" in i.hosts for i in a.incidents)
    oom = [i for i in a.incidents if "OOM" in i.title]
    assert oom and oom[0].root == "postgres on db-01"


def test_a_count_is_exact_and_its_hours_add_up(engine: Engine) -> None:
    a = ask(engine, "how many errors did nextcloud log on March 3, by hour?")
    assert a.count is not None and a.count.what == "errors" and a.count.by == "hour"
    with engine.connect() as conn:
        want = conn.execute(
            select(func.sum(MinuteCount.count)).where(
                MinuteCount.service == "nextcloud",
                MinuteCount.severity >= int(Severity.ERROR),
                MinuteCount.minute >= datetime(2026, 3, 3, tzinfo=UTC),
                MinuteCount.minute < datetime(2026, 3, 4, tzinfo=UTC),
            )
        ).scalar_one()
    assert a.count.total == want > 0
    assert sum(n for _, n in a.count.buckets) == want
    assert all(t.minute == 0 and t.hour < 24 for t, _ in a.count.buckets)


def test_every_id_cited_exists(engine: Engine) -> None:
    a = ask(engine, "why did the backup fail on march 3")
    with engine.connect() as conn:
        incidents = set(conn.execute(select(IncidentRow.id)).scalars())
        templates = set(conn.execute(select(Template.id)).scalars())
    assert a.incidents and {i.id for i in a.incidents} <= incidents
    cited = {t.id for t in a.top_errors + a.first_seen} | {h.template_id for h in a.matches}
    assert cited and cited <= templates
    assert any("no space left on device" in t.template for t in a.top_errors + a.first_seen)


def test_a_misspelt_name_is_offered_its_closest(engine: Engine) -> None:
    a = ask(engine, "errors of postgress on march 3")
    assert [(u.word, u.closest[0]) for u in a.unknown] == [("postgress", "postgres")]


def test_without_a_time_phrase_the_last_24_hours(engine: Engine) -> None:
    a = ask(engine, "anything wrong?")
    assert a.phrase is None and (a.start, a.end) == (datetime(2026, 3, 3, 12, tzinfo=UTC), NOW)


def cli(db: Path, *args: str):
    return runner.invoke(app, ["ask", *args, "--db", f"sqlite:///{db}"])


def test_the_cli_answers_in_text_and_json(incident_db: Path) -> None:
    r = cli(incident_db, "what happened on db-01 on March 3?", "--timezone", "UTC")
    assert r.exit_code == 0, r.output
    assert "root: postgres on db-01" in r.stdout and "[critical]" in r.stdout
    r = cli(incident_db, "how many errors on March 3 by hour", "--timezone", "UTC", "--json")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["count"]["total"] > 0 and obj["count"]["by"] == "hour"
    assert {"incidents", "top_errors", "first_seen", "matches", "unknown"} <= obj.keys()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["  "], "give a question"),
        (["x", "--timezone", "Mars/Base"], "not an IANA zone"),
        (["x", "--since", "soon"], "--since 'soon'"),
    ],
)
def test_bad_input_exits_2_naming_it(incident_db: Path, args: list[str], message: str) -> None:
    r = cli(incident_db, *args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_a_hostile_question_is_answered_as_text(incident_db: Path) -> None:
    r = cli(
        incident_db,
        "[bold]x[/] <script>alert(1)</script> \x1b[31m since 99:99",
        "--timezone",
        "UTC",
    )
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
