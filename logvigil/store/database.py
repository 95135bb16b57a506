"""Connecting to the store: engines, SQLite pragmas, and readable failures.

The schema is changed only by Alembic (`migrations.apply.migrate`); `current_revision`
reads which revision a store is at. A command that only reads opens its store with
`must_exist=True`: a SQLite file that is not there is a `StoreMissing` error, never a
new empty database (nor its directory).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from logvigil.core.redact import hide_url_password

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The store cannot be opened or written. The message is fit for an operator."""


class StoreMissing(StoreError):
    """A command that only reads found no database where the configuration points."""


#: What a read-only command says when there is nothing to read yet.
FIRST_RUN_HINT = "run `logvigil run` or `logvigil ingest` first"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite:///PATH`, `sqlite:///file:PATH?mode=ro&uri=true`);
    None for an in-memory database, another backend or an unparsable URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database
    if not db or db == ":memory:":
        return None
    if db.startswith("file:"):
        db = db.removeprefix("file:").split("?", 1)[0]
        if not db or db == ":memory:" or parsed.query.get("mode") == "memory":
            return None
    return Path(db)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-32768")  # 32 MiB: index upkeep of a large ingest
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_store_engine(url: str, *, must_exist: bool = False) -> Engine:
    """An engine for `url`; SQLite files get WAL, and their directory is created.

    With `must_exist`, a SQLite file that does not exist raises StoreMissing (and
    nothing is created). Raises StoreError for an unparsable URL or a missing driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"invalid database URL: {hide_url_password(url)}") from None
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        path = sqlite_file(url)
        if must_exist and path is not None:
            if not path.is_file():
                raise StoreMissing(f"no database at {path} ({FIRST_RUN_HINT})")
            if path.stat().st_size == 0:  # connecting would write a header into it
                raise StoreMissing(
                    f"no LogVigil database at {path}: it is empty ({FIRST_RUN_HINT})"
                )
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


# A statement's verb and table: what the program was doing, never the SQL itself.
_NAME = r"[\w\".`]+"
_OPERATIONS = (
    ("insert into", re.compile(rf"INSERT\s+(?:OR\s+\w+\s+)?INTO\s+({_NAME})", re.I)),
    ("update", re.compile(rf"UPDATE\s+({_NAME})", re.I)),
    ("delete from", re.compile(rf"DELETE\s+FROM\s+({_NAME})", re.I)),
    ("read", re.compile(rf"(?:WITH\b.*?\b)?SELECT\b.*?\bFROM\s+({_NAME})", re.I | re.S)),
    ("create", re.compile(rf"CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+({_NAME})", re.I)),
    ("alter", re.compile(rf"ALTER\s+TABLE\s+({_NAME})", re.I)),
    ("drop", re.compile(rf"DROP\s+(?:TABLE|INDEX)\s+(?:IF\s+EXISTS\s+)?({_NAME})", re.I)),
)


def _operation(statement: object) -> str | None:
    """`update incidents`, `insert into events`, `read ticks`... of a failed statement;
    None without one (a connection that failed) or for another kind of statement."""
    if not isinstance(statement, str):
        return None
    for verb, pattern in _OPERATIONS:
        m = pattern.match(statement.lstrip())
        if m is not None:
            return f"{verb} {m.group(1).strip(chr(34) + '`')}"
    return None


def describe_db_error(exc: Exception, url: str) -> str:
    """A one-line explanation of a driver error: the database (without its password),
    the operation (`cannot update incidents`) and the driver's reason. Never the SQL
    statement nor its parameters (they may hold log text and secrets)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    op = _operation(getattr(exc, "statement", None))
    doing = f"cannot {op}: " if op else ""
    where = database_label(url)
    if "readonly" in text or "read-only" in text or "read only" in text:
        return f"database {where} is read-only: {doing}{text}"
    path = sqlite_file(url)
    if (
        text == "unable to open database file"
        and path is not None
        and path.is_file()
        and not os.access(path.parent, os.W_OK)
    ):
        # SQLite in WAL mode creates NAME-wal and NAME-shm beside the file, even to read.
        return (
            f"database {where} cannot be opened: its directory {path.parent} is read-only "
            f"and SQLite needs to create {path.name}-wal and {path.name}-shm beside it"
        )
    return f"database {where}: {doing}{text}"


def database_label(url: str) -> str:
    """How a message names a database: a SQLite file by its path, another by its URL
    without the password."""
    path = sqlite_file(url)
    return str(path) if path is not None else hide_url_password(url)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the store's schema is at (None: an empty database)."""
    # deferred: alembic is heavy (~0.3 s with mako); only `stats` asks this
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
