"""The service and host names the store has seen: what a filter or a silence may name.

Services come from `service_templates` (every service that ever logged a template);
hosts from `minute_counts` (every host that logged within the counts' retention).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from logvigil.store.schema import MinuteCount, ServiceTemplate


def seen_services(conn: Connection) -> set[str]:
    """Every service that logged a template."""
    return set(conn.execute(select(ServiceTemplate.service).distinct()).scalars())


def seen_hosts(conn: Connection) -> set[str]:
    """Every host with lines within the counts' retention."""
    return set(conn.execute(select(MinuteCount.host).distinct()).scalars())
