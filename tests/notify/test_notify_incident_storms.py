"""Which incident changes of an OOM storm reach a human: the opening of each episode and
of each incident a new victim opens after the last one resolved; not every kill.

Incidents come from the real `IncidentManager` (on every backend), messages from
`on_incident_changes`, as the daemon calls them after each tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from detector.incidents.manager import ChangeKind, IncidentManager
from detector.incidents.model import IncidentConfig
from detector.incidents.topology import InventoryTopology
from graph.inventory import Inventory
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.store.schema import OutboxRow
from notify.config import NotifyConfig
from notify.service import on_incident_changes

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
CFG = NotifyConfig.model_validate({"console": False})  # the console channel alone


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def kill(victim: str, minute: float) -> Finding:
    """The primitive finding of a kernel "Out of Memory: Killed process N (victim)." line."""
    return Finding(
        detector="primitive",
        at=at(minute + 1),
        started_at=at(minute),
        service=victim,
        host="combo",
        severity=Severity.CRITICAL,
        summary=f"{victim} on combo: OOM kill (template #7)",
        kind="oom_kill",
        evidence={"count": 1},
    )


def tick(engine: Engine, manager: IncidentManager, findings: list[Finding], now: datetime):
    changes = manager.process(findings, now)
    on_incident_changes(engine, changes, now, CFG)
    return changes


def opened_messages(engine: Engine) -> list[int]:
    """The incident ids of the "opened" messages in the outbox, in order."""
    o = OutboxRow.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(o.incident_id).where(o.kind == "opened").order_by(o.id))
        return [r.incident_id for r in rows]


def test_a_new_victim_after_the_first_incident_resolved_is_sent_as_opened(
    engine: Engine,
) -> None:
    manager = IncidentManager(engine, InventoryTopology(Inventory()), IncidentConfig())
    [first] = tick(engine, manager, [kill("java", 0)], at(1))
    [resolved] = tick(engine, manager, [], at(31))
    assert resolved.kind is ChangeKind.RESOLVED
    [second] = tick(engine, manager, [kill("mysqld", 84)], at(85))
    assert second.kind is ChangeKind.OPENED
    assert opened_messages(engine) == [first.incident.id, second.incident.id]


def test_a_storm_is_one_message_per_episode_not_one_per_kill(engine: Engine) -> None:
    manager = IncidentManager(engine, InventoryTopology(Inventory()), IncidentConfig())
    victims = ["httpd", "python", "httpd", "sendmail", "mrtg"]
    for i, victim in enumerate(victims):  # a kill every 10 min, then a 2 h pause
        minute = i * 10 + (120 if i >= 3 else 0)
        tick(engine, manager, [], at(minute))
        tick(engine, manager, [kill(victim, minute)], at(minute + 1))
    [storm] = manager.list()
    assert opened_messages(engine) == [storm.id]
    tick(engine, manager, [], at(161 + 6 * 60))  # six quiet hours: the episode ended
    [next_episode] = tick(engine, manager, [kill("httpd", 170 + 6 * 60)], at(171 + 6 * 60))
    assert next_episode.kind is ChangeKind.OPENED
    assert opened_messages(engine) == [storm.id, next_episode.incident.id]
