"""The `logvigil` command line.

Exit codes: 0 success, 1 partial success (some input lines were rejected; they
are reported and counted), 2 usage, configuration or store error. User mistakes
get one clear message on stderr, never a traceback. Commands live in
`data` (the store) and `detection` (backtest, incidents, run, demo, eval).
"""

from logvigil.cli import data, detection  # noqa: F401 - registers the commands
from logvigil.cli.common import app
from logvigil.cli.graph import app as graph_app
from logvigil.cli.notify import notify_app, silence_app

# Sub-command groups owned by other packages, registered explicitly here.
app.add_typer(graph_app, name="graph", help="Inventory and dependency graph.")
app.add_typer(silence_app, name="silence", help="Silence notifications for a service or host.")
app.add_typer(notify_app, name="notify", help="Notification channels: test and status.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
