"""The `logvigil` command line: every command, registered on `app` here.

Each command (or small group of commands) is one module that parses its
options, calls the layers below and prints; the shared exit codes, options, the
one way to fail and input reading are in `logvigil.cli.kit`. Exit codes: 0
success, 1 partial success (some input lines were rejected; they are reported
and counted), 2 usage, configuration or store error. User mistakes get one
clear message on stderr, never a traceback.
"""

import typer

from logvigil.cli import (
    ask,
    backtest,
    check_config,
    evaluation,
    incidents,
    ingest,
    install_service,
    mine,
    prune,
    run,
    search,
    stats,
    status,
    web,
)
from logvigil.cli.graph import app as graph_app
from logvigil.cli.kit import own_process
from logvigil.cli.notify import notify_app, silence_app

app = typer.Typer(
    name="logvigil",
    help="LogVigil: a self-hosted log watchdog that stays silent until a human is needed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# The store: configuration, templates, ingest, what it holds, retention.
app.command("check-config")(check_config.check_config)
app.command("mine")(mine.mine)
app.command("ingest")(ingest.ingest)
app.command("stats")(stats.stats)
app.command("search")(search.search)
app.command("embed")(search.embed)
app.command("ask")(ask.ask)
app.command("web")(web.web)
app.command("prune")(prune.prune)
# Detection: replay, incidents, the daemon and its state, evaluation.
app.command("backtest")(backtest.backtest)
app.add_typer(incidents.app, name="incidents")
app.command("run")(run.run)
app.command("status")(status.status)
app.command("install-service")(install_service.install_service)
app.command("demo")(evaluation.demo)
app.command("eval")(evaluation.eval_suite)
# Sub-command groups.
app.add_typer(graph_app, name="graph", help="Inventory and dependency graph.")
app.add_typer(silence_app, name="silence", help="Silence notifications for a service or host.")
app.add_typer(notify_app, name="notify", help="Notification channels: test and status.")


def main() -> None:
    own_process()
    app()


if __name__ == "__main__":
    main()
