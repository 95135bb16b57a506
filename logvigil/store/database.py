"""Connecting to the store: engines, SQLite pragmas, and readable failures.

The schema is changed only by Alembic (`migrations.apply.migrate`); `current_revision`
reads which revision a store is at.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from logvigil.core.redact import hide_url_password

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The store cannot be opened or written. The message is fit for an operator."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-32768")  # 32 MiB: index upkeep of a large ingest
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, and their directory is created.

    Raises StoreError for an unparsable URL or a missing driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"invalid database URL: {hide_url_password(url)}") from None
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory of {db}: {exc.strerror}") from None
    else:
        kwargs.update(pool_pre_ping=True, pool_recycle=3600)
        if parsed.get_backend_name() in ("mysql", "mariadb"):
            kwargs["connect_args"] = {"charset": "utf8mb4"}
        else:
            kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise StoreError(f"no driver for {hide_url_password(url)}") from None
    except ImportError as exc:
        raise StoreError(f"database driver missing for {hide_url_password(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def describe_db_error(exc: Exception, url: str) -> str:
    """A one-line explanation of a driver error, without the password."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if "readonly" in text or "read-only" in text or "read only" in text:
        return f"database {hide_url_password(url)} is read-only: {text}"
    return f"database {hide_url_password(url)}: {text}"


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the store's schema is at (None: an empty database)."""
    # deferred: alembic is heavy (~0.3 s with mako); only `stats` asks this
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
