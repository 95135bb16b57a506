"""`logvigil prune`: apply retention to a store now."""

from __future__ import annotations

from logvigil.cli.kit import ConfigOpt, DbOpt, existing_store_or_exit, out, settings_or_exit
from logvigil.core.timeutil import wall_clock
from logvigil.store.retention import purge


def prune(db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Apply retention: drop raw events and per-minute counts older than configured.

    The daemon does this on its own; this command is for stores fed by `ingest`.
    A store that does not exist has nothing to prune: it is not created.
    """
    settings = settings_or_exit(config)
    engine = existing_store_or_exit(settings, db)
    r = purge(
        engine,
        wall_clock(),
        event_days=settings.database.event_retention_days,
        count_days=settings.database.count_retention_days,
    )
    out.print(
        f"purged {r.events:,} events (> {settings.database.event_retention_days} days), "
        f"{r.rejections:,} rejection samples and {r.count_rows:,} count rows "
        f"(> {settings.database.count_retention_days} days)"
        + (f"; forgot {r.sources:,} sources no process reported on" if r.sources else "")
    )
