"""Applying the migrations: the only way a store's schema changes.

`open_engine` is what every command and the daemon use to open a store: it connects
and upgrades the schema to head (Alembic, on SQLite, PostgreSQL and MariaDB alike).
A command that only reads opens it with `must_exist=True`: a database that is not
there, or holds no LogVigil schema, is a `StoreMissing` error and nothing is created.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from logvigil.store.database import (
    FIRST_RUN_HINT,
    StoreError,
    StoreMissing,
    create_store_engine,
    current_revision,
    database_label,
    describe_db_error,
)

if TYPE_CHECKING:
    from alembic.config import Config

#: This package's folder: env.py and versions/.
MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config() -> Config:
    """Alembic's configuration for this folder's scripts."""
    # deferred: alembic is heavy (~0.3 s with mako); commands that open no store skip it
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest revision of the scripts."""
    from alembic.script import ScriptDirectory  # deferred: heavy, see alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default head). Idempotent.

    Raises StoreError when the database cannot be reached or written.
    """
    from alembic import command  # deferred: heavy, see alembic_config

    cfg = alembic_config()
    url = engine.url.render_as_string(hide_password=False)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except (OperationalError, DBAPIError) as exc:
        raise StoreError(describe_db_error(exc, url)) from None


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to `revision` (tests and repairs)."""
    from alembic import command  # deferred: heavy, see alembic_config

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def open_engine(url: str, *, upgrade: bool = True, must_exist: bool = False) -> Engine:
    """Create the engine, check it answers, and migrate it to head.

    With `must_exist` (the commands that only read), a SQLite file that is not there, or
    a database without LogVigil's schema, raises StoreMissing before anything is written;
    an existing store of an older revision is still migrated. Raises StoreError with a
    readable message for any failure.
    """
    engine = create_store_engine(url, must_exist=must_exist)
    if must_exist:
        try:
            revision = current_revision(engine)
        except (OperationalError, DBAPIError) as exc:
            engine.dispose()
            raise StoreError(describe_db_error(exc, url)) from None
        if revision is None:
            engine.dispose()
            raise StoreMissing(
                f"no LogVigil database at {database_label(url)}: it is empty ({FIRST_RUN_HINT})"
            )
    if upgrade:
        migrate(engine)
    else:
        try:
            with engine.connect():
                pass
        except (OperationalError, DBAPIError) as exc:
            raise StoreError(describe_db_error(exc, url)) from None
    return engine
