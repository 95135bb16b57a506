"""`logvigil check-config`: validate a configuration file and show what it sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from logvigil.cli.kit import out, settings_or_exit
from logvigil.core.redact import hide_url_password


def check_config(
    path: Annotated[
        Path | None,
        typer.Argument(help="config file (default: $LOGVIGIL_CONFIG or ./logvigil.yaml)"),
    ] = None,
) -> None:
    """Validate a configuration file; exit 0 when valid, 2 with every error otherwise."""
    settings = settings_or_exit(path)

    out.print(f"[green]ok[/]: {escape(str(path or 'configuration'))} is valid")
    out.print(f"  database:  {escape(hide_url_password(settings.database_url))}")
    out.print(f"  data dir:  {escape(str(settings.data_dir))}")
    out.print(f"  inventory: {escape(str(settings.graph.inventory))}")
    out.print(
        f"  sources:   {len(settings.sources)}, noise rules: {len(settings.detector.noise.rules)}"
        f" (+ built-in: {'yes' if settings.detector.noise.defaults else 'no'})"
    )
    out.print(f"  llm:       {settings.llm.provider}")
