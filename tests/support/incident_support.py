"""Findings for the incident tests: one builder shared by the grouping and manager tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logvigil.core.events import Severity
from logvigil.core.findings import Finding

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

#: A small fleet: a database host, a web host, an app host and an unrelated mail host.
INVENTORY = """
hosts:
  db-01: {}
  web-01: {}
  app-02: {}
  mail-01: {}
services:
  postgres: {hosts: [db-01]}
  redis: {hosts: [db-01]}
  nextcloud: {hosts: [web-01], depends_on: [postgres, redis]}
  nginx: {hosts: [web-01], calls: [nextcloud]}
  gitea: {hosts: [app-02], depends_on: [postgres]}
  postfix: {hosts: [mail-01]}
  dovecot: {hosts: [mail-01]}
"""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def finding(
    service: str | None,
    host: str | None,
    minute: float,
    *,
    detector: str = "error_rate",
    kind: str | None = None,
    template_id: int | None = None,
    severity: Severity = Severity.ERROR,
    found: float | None = None,
    summary: str | None = None,
) -> Finding:
    """A finding that started at `minute` and was found a minute later (or at `found`)."""
    return Finding(
        detector=detector,
        at=at(found if found is not None else minute + 1),
        started_at=at(minute),
        service=service,
        host=host,
        severity=severity,
        summary=summary or f"{detector} on {service or host}",
        kind=kind,
        template_id=template_id,
        evidence={"count": 12, "baseline": 0.5},
    )
