"""Questions an operator asks, parsed against the store's hosts and services."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from logvigil.search.question import parse_question

NOW = datetime(2026, 3, 5, 10, 30, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Berlin")
HOSTS = {"db-01", "web-01", "nas-01", "pi-01"}
SERVICES = {"postgres", "nginx", "gitea", "nextcloud", "backup", "sshd", "CRON"}


def parse(text: str):
    return parse_question(text, NOW, ZONE, hosts=HOSTS, services=SERVICES)


def test_the_3am_question() -> None:
    q = parse("What happened on db-01 last night?")
    assert q.hosts == ("db-01",) and q.services == ()
    assert q.range is not None and q.range.phrase == "last night"
    assert q.count is None and q.unknown == ()
    assert "db-01" not in q.words and "night" not in q.words


def test_a_count_by_hour() -> None:
    q = parse("how many errors did nginx log yesterday, by hour?")
    assert q.services == ("nginx",) and q.count == "errors" and q.by == "hour"
    assert q.range is not None and q.range.phrase == "yesterday"


@pytest.mark.parametrize(
    ("text", "count", "by"),
    [
        ("number of warnings from gitea per day", "warnings", "day"),
        ("count lines of backup hourly", "lines", "hour"),
        ("how many failed logins on nas-01", "errors", None),
        ("why is nextcloud failing", None, None),
    ],
)
def test_what_is_counted_and_how_it_is_broken_down(
    text: str, count: str | None, by: str | None
) -> None:
    q = parse(text)
    assert (q.count, q.by) == (count, by)


def test_names_are_case_insensitive_and_given_as_the_store_spells_them() -> None:
    q = parse("cron jobs on PI-01")
    assert q.services == ("CRON",) and q.hosts == ("pi-01",)


def test_a_misspelt_name_gets_did_you_mean() -> None:
    q = parse("errors of ngnix on db01 since 09:00")
    assert [(u.word, u.closest[0]) for u in q.unknown] == [("ngnix", "nginx"), ("db01", "db-01")]
    assert q.services == () and q.hosts == ()
    assert q.range is not None and q.range.phrase == "since 09:00"


@pytest.mark.parametrize("text", ["", "   ", "???", "<script>alert(1)</script>", "a" * 5000])
def test_hostile_or_empty_questions_parse_to_nothing_much(text: str) -> None:
    q = parse(text)
    assert q.hosts == () and q.services == () and q.range is None and q.count is None
