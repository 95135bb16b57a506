"""`logvigil install-service`: the hardened systemd unit and what it needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from logvigil.app.service_install import InstallError, apply, plan
from logvigil.cli.kit import fail, out


def install_service(
    user: Annotated[str, typer.Option(help="the dedicated user the daemon runs as")] = "logvigil",
    prefix: Annotated[
        Path, typer.Option(help="the checkout with its uv environment (.venv)")
    ] = Path("/opt/logvigil"),
    config_dir: Annotated[
        Path, typer.Option("--config-dir", help="where logvigil.yaml and inventory.yaml live")
    ] = Path("/etc/logvigil"),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print what would be done; change nothing")
    ] = False,
) -> None:
    """Install the hardened systemd unit: user, state and config directories, unit, reload.

    Existing config files are kept. Enable it afterwards with
    `systemctl enable --now logvigil`. Needs root (except --dry-run).
    """
    try:
        steps = plan(user=user, prefix=prefix, config_dir=config_dir)
    except InstallError as exc:
        fail(str(exc))
    if dry_run:
        for step in steps:
            out.print(escape(step.describe()), highlight=False, soft_wrap=True)
            if step.content is not None:
                out.print(escape(step.content), highlight=False, soft_wrap=True)
        out.print("(dry run: nothing was changed)", highlight=False)
        return
    if os.geteuid() != 0:
        fail("install-service needs root: run it with sudo (or try --dry-run)")
    try:
        apply(steps)
    except InstallError as exc:
        fail(str(exc))
    for step in steps:
        out.print(f"done: {escape(step.describe())}", highlight=False, soft_wrap=True)
    out.print(
        "next: edit the config and inventory in "
        f"{escape(str(config_dir))}, then `systemctl enable --now logvigil`",
        highlight=False,
    )
