"""`logvigil web`: the read-only pages over the store, served by uvicorn.

    logvigil web                                  # http://127.0.0.1:8765
    logvigil web --listen 127.0.0.1:9000 --db sqlite:///demo.db
    LOGVIGIL_WEB_TOKEN=... logvigil web --listen 0.0.0.0:8765

Any address but loopback needs a token (`LOGVIGIL_WEB_TOKEN`): without one the
command refuses to start (exit 2).
"""

from __future__ import annotations

from typing import Annotated

import typer

from logvigil.app.webconfig import DEFAULT_LISTEN, check_listen
from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    err,
    existing_store_or_exit,
    fail,
    inventory_or_none,
    settings_or_exit,
)
from logvigil.web.app import create_app
from logvigil.web.serve import serve


def web(
    listen: Annotated[
        str | None,
        typer.Option("--listen", help=f"HOST:PORT (default: web.listen, else {DEFAULT_LISTEN})"),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the incidents, services, templates, status and trends pages (read-only)."""
    settings = settings_or_exit(config)
    address = listen or settings.web.listen or DEFAULT_LISTEN
    try:
        host, port = check_listen(address, settings.web.token)
    except ValueError as exc:
        fail(f"--listen {exc}")
    engine = existing_store_or_exit(settings, db)
    token = settings.web.token.get_secret_value() if settings.web.token else None
    app = create_app(
        engine,
        settings,
        inventory=inventory_or_none(settings.graph.inventory, "no graph on the pages"),
        token=token,
    )
    err.print(
        f"serving http://{host}:{port}/ (read-only){' with a token' if token else ''}",
        markup=False,
    )
    try:
        serve(app, host, port)
    finally:
        engine.dispose()
