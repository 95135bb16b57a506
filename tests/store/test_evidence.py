"""Evidence queries that choose lines in SQL answer as the rule they implement."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from logvigil.core.events import Severity
from logvigil.store import evidence
from logvigil.store.bulk import executemany
from logvigil.store.schema import Event

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERVICES = ("postgres", "nextcloud", "systemd")
HOSTS = ("db-01", "web-01")


def _seed(engine: Engine, n: int) -> None:
    """`n` lines over an hour: few distinct times (ties), templates and severities."""
    rnd = random.Random(3)
    rows = [
        {
            "ts": T0 + timedelta(minutes=rnd.randrange(60)),
            "host": rnd.choice(HOSTS),
            "service": rnd.choice(SERVICES),
            "severity": int(rnd.choice(list(Severity))),
            "template_id": rnd.randrange(1, 12),
            "message": f"line {i}",
            "source": "test",
            "attributes": None,
            "truncated": False,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        executemany(conn, insert(Event.__table__), Event.__table__, rows)


def _chosen_in_python(
    rows: list[evidence.LogLine], first: set[int], then: set[int], per: int, limit: int
) -> list[evidence.LogLine]:
    """The rule `sample_lines` documents, applied to `notable_lines`' rows."""

    def rank(r: evidence.LogLine) -> tuple[int, int, datetime]:
        return (
            0 if r.template_id in first else 1 if r.template_id in then else 2,
            -r.severity,
            r.ts,
        )

    return evidence.first_per_template(rows, rank, per, limit)


@pytest.mark.parametrize(
    ("services", "hosts", "first", "then", "per", "limit"),
    [
        (["postgres"], [], {1}, {2, 3}, 3, 40),
        (["postgres", "nextcloud"], ["db-01"], {4}, set(), 2, 10),
        ([], ["web-01"], set(), {5}, 1, 5),
        (["nextcloud"], [], set(), set(), 1, 1),
        (list(SERVICES), list(HOSTS), {1, 2}, {3}, 100, 10_000),
    ],
)
def test_sample_lines_are_notable_lines_chosen_by_priority(
    engine: Engine,
    services: list[str],
    hosts: list[str],
    first: set[int],
    then: set[int],
    per: int,
    limit: int,
) -> None:
    _seed(engine, evidence.SCAN_ROWS + 500)  # more than a scan reads
    window = {"start": T0 + timedelta(minutes=5), "end": T0 + timedelta(minutes=50)}
    with engine.connect() as conn:
        rows = evidence.notable_lines(
            conn,
            services=services,
            hosts=hosts,
            min_severity=Severity.WARNING,
            template_ids=first | then,
            line_chars=80,
            **window,
        )
        chosen = evidence.sample_lines(
            conn,
            services=services,
            hosts=hosts,
            min_severity=Severity.WARNING,
            first_tpls=first,
            then_tpls=then,
            per_template=per,
            limit=limit,
            line_chars=80,
            **window,
        )
    assert chosen == _chosen_in_python(rows, first, then, per, limit)
    assert chosen or not rows
