"""`logvigil graph ...`: check, show and question the inventory.

Every command reads the inventory itself (`--inventory`, else
`$LOGVIGIL_INVENTORY`, else `./inventory.yaml`); `impact` and `upstream` load
it into a throwaway embedded FalkorDB, so no prior `load` step is needed.
Exit codes: 0 success, 2 invalid inventory or unknown service, 1 graph backend
failure. Errors go to stderr; JSON and pictures to stdout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from graph import queries, render
from graph.inventory import Inventory, describe, load_inventory
from graph.store import GraphError, GraphStore
from logvigil.core.yamlfile import ConfigError

app = typer.Typer(
    help="Inventory and dependency graph: validate, draw, and ask what breaks.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_INVALID = 2
EXIT_BACKEND = 1

InventoryOption = Annotated[
    Path,
    typer.Option(
        "--inventory",
        "-i",
        envvar="LOGVIGIL_INVENTORY",
        help="Inventory file (default: $LOGVIGIL_INVENTORY, else ./inventory.yaml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _load(path: Path) -> Inventory:
    """The validated inventory, or print every problem and exit 2."""
    try:
        inv = load_inventory(path)
    except ConfigError as err:
        console = _err()
        for p in err.problems:
            console.print(str(p), markup=False, style="red")
        for w in err.warnings:
            console.print(str(w), markup=False, style="yellow")
        n = len(err.problems)
        console.print(f"{path}: invalid inventory ({n} error{'s' if n != 1 else ''})", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    console = _err()
    for w in inv.warnings:
        console.print(str(w), markup=False, style="yellow")
    return inv


@app.command()
def check(inventory: InventoryOption = Path("inventory.yaml")) -> None:
    """Validate the inventory: exit 0 when valid (cycles are warnings), 2 otherwise."""
    inv = _load(inventory)
    counts = describe(inv)
    typer.echo(
        f"{inventory}: OK ({counts['hosts']} hosts, {counts['services']} services, "
        f"{counts['edges']} edges, {len(inv.warnings)} warnings)"
    )


@app.command()
def show(
    inventory: InventoryOption = Path("inventory.yaml"),
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Mermaid flowchart.")] = False,
    dot: Annotated[bool, typer.Option("--dot", help="Graphviz DOT.")] = False,
) -> None:
    """Print the inventory as a tree, or as a Mermaid or DOT picture."""
    if mermaid and dot:
        _err().print("choose one of --mermaid and --dot", markup=False)
        raise typer.Exit(EXIT_INVALID)
    inv = _load(inventory)
    text = render.mermaid(inv) if mermaid else render.dot(inv) if dot else render.tree(inv)
    typer.echo(text, nl=False)


@app.command()
def impact(
    service: Annotated[str, typer.Argument(help="The service that fails.")],
    inventory: InventoryOption = Path("inventory.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Blast radius: every service that transitively depends on or calls SERVICE."""
    _reach(service, inventory, as_json, "blast_radius")


@app.command()
def upstream(
    service: Annotated[str, typer.Argument(help="The service whose needs to list.")],
    inventory: InventoryOption = Path("inventory.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Everything SERVICE transitively depends on or calls."""
    _reach(service, inventory, as_json, "upstream")


def _reach(service: str, inventory: Path, as_json: bool, direction: str) -> None:
    inv = _load(inventory)
    try:
        with GraphStore.temporary() as store:
            store.load(inv)
            ask = queries.blast_radius if direction == "blast_radius" else queries.upstream
            reach = ask(store, service)
    except queries.UnknownService as exc:
        _err().print(f"{inventory}: {exc}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except GraphError as exc:
        _err().print(f"graph backend failed: {exc}", markup=False)
        raise typer.Exit(EXIT_BACKEND) from None
    if as_json:
        typer.echo(json.dumps(reach.to_json(), indent=2))
        return
    arrow = " <- " if direction == "blast_radius" else " -> "
    title = "blast radius of" if direction == "blast_radius" else "upstream of"
    if not reach.services:
        typer.echo(f"{title} {service}: nothing")
        return
    typer.echo(f"{title} {service}:")
    for r in reach.services:
        typer.echo(f"  {r.service} (depth {r.depth}): {arrow.join(r.path)}")


if __name__ == "__main__":
    app()
