"""`logvigil silence ...` and `logvigil notify ...` (typer sub-apps mounted by `logvigil.cli`).

Exit codes: 0 success; 1 a channel failed (`notify test`); 2 usage,
configuration or store error. Errors go to stderr, one line each, never a
traceback; secrets never reach the output (notifiers scrub their errors).

`silence add` refuses a service or host that is neither in the inventory nor ever
seen in the store (a typo would mute nothing), with a "did you mean"; `--force`
accepts one not seen yet. `notify status` and `silence list` only read: without a
store they say so and exit 2, creating nothing. A channel's "last delivered" is
the newest message it accepted, an incident's, a digest's or `notify test`'s
(`notify.outbox.channel_status`, also what `logvigil status` shows).
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection

from logvigil.app.runtime import read_inventory
from logvigil.app.settings import Settings
from logvigil.cli.kit import (
    EXIT_OK,
    ConfigOpt,
    DbOpt,
    JsonOpt,
    err,
    existing_store_or_exit,
    fail,
    fail_config,
    settings_or_exit,
    stdout_console,
    store_errors,
    store_or_exit,
)
from logvigil.core.timeutil import iso_z_or_none, wall_clock
from logvigil.core.yamlfile import ConfigError
from logvigil.store.names import seen_hosts, seen_services
from notify import configured_channels, silences
from notify.outbox import channel_status
from notify.policy import Silence
from notify.service import send_test

EXIT_FAILED = 1

silence_app = typer.Typer(
    help="Mute notifications for a service or host (incidents are still recorded).",
    no_args_is_help=True,
    add_completion=False,
)
notify_app = typer.Typer(
    help="Notification channels: send a test message, show delivery health.",
    no_args_is_help=True,
    add_completion=False,
)


def _out() -> Console:
    return stdout_console(highlight=False)  # a table prints whole values in a pipe


def _silence_json(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "service": s.service,
        "host": s.host,
        "reason": s.reason,
        "created_at": iso_z_or_none(s.created_at, "seconds"),
        "expires_at": iso_z_or_none(s.expires_at, "seconds"),
        "removed_at": iso_z_or_none(s.removed_at, "seconds"),
    }


# --------------------------------------------------------------------------- silence


@silence_app.command("add")
def silence_add(
    duration: Annotated[str, typer.Option("--for", help="how long: 30m, 2h, 1d, 1h30m")],
    reason: Annotated[str, typer.Option("--reason", help="why (shown in `silence list`)")],
    service: Annotated[str | None, typer.Option("--service", help="service to mute")] = None,
    host: Annotated[str | None, typer.Option("--host", help="host to mute")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="accept a service or host not seen yet (not in the inventory, no line stored)",
        ),
    ] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mute notifications of incidents rooted at a service or host, for a while.

    The service and the host must be known (in the inventory, or seen in the store);
    an unknown one is refused with the closest known names, unless --force.
    """
    try:
        span = silences.parse_duration(duration)
        if service is None and host is None:
            raise silences.SilenceError("a silence needs --service or --host (or both)")
    except silences.SilenceError as exc:
        fail(str(exc))
    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    now = wall_clock()
    with store_errors(engine, "silence add"):
        try:
            with engine.begin() as conn:
                s = silences.add(
                    conn, service=service, host=host, duration=span, reason=reason, now=now
                )
                if not force:  # refused: the transaction rolls back, nothing is stored
                    _check_known(conn, settings, s.service, s.host)
        except silences.SilenceError as exc:
            fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(_silence_json(s)) + "\n")
    else:
        what = " on ".join(x for x in (service, host) if x)
        _out().print(
            f"silence {s.id}: {escape(what)} muted until {iso_z_or_none(s.expires_at, 'seconds')}"
        )


def _check_known(
    conn: Connection, settings: Settings, service: str | None, host: str | None
) -> None:
    """Raise SilenceError for a service or host that neither the inventory nor the store
    knows: a silence matches names exactly, so a typo would silently mute nothing."""
    path = settings.graph.inventory
    try:
        inventory = read_inventory(path)  # an absent file: an empty inventory
    except ConfigError as exc:
        fail_config(exc)
    where = f"the inventory {path}" if path.exists() else f"the inventory (no file {path})"
    if service is not None:
        known = [*inventory.services, *seen_services(conn)]
        _known("--service", "service", service, known, where)
    if host is not None:  # hosts that logged within the count retention (90 days)
        _known("--host", "host", host, [*inventory.hosts, *seen_hosts(conn)], where)


def _known(option: str, kind: str, name: str, known: Iterable[str], where: str) -> None:
    names = sorted(set(known))
    if name in names:
        return
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise silences.SilenceError(
        f"{option} {name!r}: unknown {kind}: not in {where} and never seen in the store; "
        f"{hint}--force silences a {kind} not seen yet"
    )


@silence_app.command("list")
def silence_list(
    include_expired: Annotated[
        bool, typer.Option("--all", help="include expired and removed silences")
    ] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Active silences, newest first. Reads only: without a store, exits 2."""
    engine = existing_store_or_exit(settings_or_exit(config), db)
    with store_errors(engine, "silence list"), engine.connect() as conn:
        rows = silences.list_silences(conn, wall_clock(), include_expired=include_expired)
    if as_json:
        for s in rows:
            sys.stdout.write(json.dumps(_silence_json(s)) + "\n")
        return
    if not rows:
        _out().print("no active silences")
        return
    table = Table("id", "service", "host", "until", "reason")
    for s in rows:
        table.add_row(
            str(s.id),
            escape(s.service or "*"),
            escape(s.host or "*"),
            iso_z_or_none(s.expires_at, "seconds"),
            escape(s.reason),
        )
    _out().print(table)


@silence_app.command("remove")
def silence_remove(
    silence_id: Annotated[int, typer.Argument(help="silence id (see `silence list`)", min=1)],
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """End a silence now."""
    engine = store_or_exit(settings_or_exit(config), db)
    try:
        with engine.begin() as conn:
            silences.remove(conn, silence_id, wall_clock())
    except silences.SilenceError as exc:
        fail(str(exc))
    _out().print(f"silence {silence_id} removed")


# --------------------------------------------------------------------------- notify


@notify_app.command("test")
def notify_test(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a test message to every configured channel; exit 1 if any failed."""
    settings = settings_or_exit(config)
    engine = None
    try:
        engine = store_or_exit(settings, db)
    except typer.Exit:
        err.print("[yellow]warning:[/] store unavailable: channel health not recorded")
    results = send_test(settings.notify, wall_clock(), engine=engine)
    if as_json:
        for r in results:
            sys.stdout.write(json.dumps({"channel": r.channel, "ok": r.ok, "detail": r.detail}))
            sys.stdout.write("\n")
    else:
        for r in results:
            mark = "[green]ok[/]" if r.ok else "[bold red]FAILED[/]"
            _out().print(f"{r.channel}: {mark} {escape(r.detail)}")
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)


@notify_app.command("status")
def notify_status(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Each channel's health and outbox: broken, pending, unconfirmed, failed, last delivered.

    "last delivered" is the newest message the channel accepted: an incident's, a
    digest's or a successful `notify test`'s. Reads only: without a store, exits 2.
    """
    settings = settings_or_exit(config)
    engine = existing_store_or_exit(settings, db)
    with store_errors(engine, "notify status"), engine.connect() as conn:
        rows = channel_status(conn, configured_channels(settings.notify))
    if as_json:
        for s in rows:
            obj = {
                "channel": s.channel,
                "broken": s.broken,
                "reason": s.reason,
                "pending": s.pending,
                "unconfirmed": s.unconfirmed,
                "failed": s.failed,
                "last_sent_at": iso_z_or_none(s.last_sent_at, "seconds"),
            }
            sys.stdout.write(json.dumps(obj) + "\n")
        return
    for s in rows:
        state = f"[bold red]BROKEN[/] ({escape(s.reason or '')})" if s.broken else "[green]ok[/]"
        _out().print(
            f"{s.channel}: {state}; {s.pending} pending, {s.unconfirmed} unconfirmed, "
            f"{s.failed} failed; "
            f"last delivered {iso_z_or_none(s.last_sent_at, 'seconds') or 'never'}"
        )
