"""Opening the store: engines, SQLite pragmas, migrations, and readable failures."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

import migrations
from logvigil.core.redact import hide_url_password

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


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


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default head). Idempotent.

    Raises StoreError when the database cannot be reached or written.
    """
    cfg = alembic_config()
    url = engine.url.render_as_string(hide_password=False)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except (OperationalError, DBAPIError) as exc:
        raise StoreError(describe_db_error(exc, url)) from None


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def open_engine(url: str, *, upgrade: bool = True) -> Engine:
    """Create the engine, check it answers, and migrate it to head.

    Raises StoreError with a readable message for any failure.
    """
    engine = create_store_engine(url)
    if upgrade:
        migrate(engine)
    else:
        try:
            with engine.connect():
                pass
        except (OperationalError, DBAPIError) as exc:
            raise StoreError(describe_db_error(exc, url)) from None
    return engine
