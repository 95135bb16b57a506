"""What every LogVigil command line shares: exit codes, common options, one way to fail.

`logvigil` (`logvigil.cli`), its `notify` / `silence` sub-apps (`logvigil.cli.notify`) and
`investigate` (`logvigil.cli.investigate`) all use these. The module sits outside
`logvigil.cli` on purpose: importing that package mounts every sub-command
(and `logvigil.cli.notify` is one of them), so the sub-apps could not import from it.

User mistakes get one clear line per problem on stderr (`error: file:line: field:
message`) and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from logvigil.app.settings import ConfigError, Settings

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="config file (default: $LOGVIGIL_CONFIG or ./logvigil.yaml)"
    ),
]
DbOpt = Annotated[
    str | None, typer.Option("--db", help="database URL (default: from the config, else SQLite)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print `error: MESSAGE` on stderr and exit with `code` (2, a usage error, by default)."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def fail_config(exc: ConfigError) -> NoReturn:
    """Print every problem of an invalid file (file:line: field: message) and exit 2."""
    for problem in exc.problems:
        err.print(f"[bold red]error:[/] {escape(str(problem))}")
    raise typer.Exit(EXIT_USAGE) from None


def settings_or_exit(config: Path | None) -> Settings:
    """The settings from `config` (or $LOGVIGIL_CONFIG, ./logvigil.yaml, the defaults)."""
    from logvigil.app.settings import ConfigError, load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        fail_config(exc)


def store_or_exit(settings: Settings, db: str | None = None) -> Engine:
    """The store at `db`, else the configured one, migrated to head."""
    from logvigil.store.database import StoreError
    from migrations.apply import open_engine

    try:
        return open_engine(db or settings.database_url)
    except StoreError as exc:
        fail(str(exc))
