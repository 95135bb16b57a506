"""Alembic environment: the only way LogVigil's schema changes.

Run programmatically by `migrations.apply.migrate` (which passes an open
connection in `config.attributes["connection"]`), or by hand with
`uv run alembic -c migrations/alembic.ini upgrade head` (URL from
`LOGVIGIL_DATABASE_URL`).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, text

from logvigil.store.schema import metadata

config = context.config


def _run(connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # A batch rebuild of a parent table with foreign keys on silently
        # cascades deletes into child rows: keep them off while migrating.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        bad = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if bad:
            raise RuntimeError(f"foreign key check failed after migration: {bad[:5]}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("LOGVIGIL_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set LOGVIGIL_DATABASE_URL to the database to migrate")
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    context.configure(
        url=os.environ.get("LOGVIGIL_DATABASE_URL", "sqlite://"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
