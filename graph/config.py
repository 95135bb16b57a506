"""The `graph:` section: the inventory file and the FalkorDB that holds its graph."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from logvigil.core.configbase import Strict


class GraphConfig(Strict):
    """Where the inventory is read from, and which FalkorDB it is loaded into."""

    inventory: Path = Path("inventory.yaml")
    url: str | None = Field(
        default=None,
        description="falkordb://host:port of a FalkorDB server; default: embedded FalkorDB",
    )
