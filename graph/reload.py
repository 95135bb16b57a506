"""Reload the inventory into the graph when its file changes; refuse a bad edit.

The daemon calls `InventoryReloader.check()` on its clock. A changed file that
validates replaces the graph (atomically, see `graph.store`); one that does not
is refused with its problems and the last good graph keeps answering. The
same bad content is reported once, not on every tick.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from graph.inventory import Inventory, load_inventory
from graph.store import GraphStore, LoadResult
from logvigil.core.yamlfile import ConfigError, Problem

log = logging.getLogger(__name__)

_NEVER = object()  # no check yet: even a missing file is news


class ReloadStatus(StrEnum):
    LOADED = "loaded"  # the file changed and the new graph is live
    UNCHANGED = "unchanged"  # nothing to do (same content, or a bad edit already reported)
    REFUSED = "refused"  # the file changed but is invalid: the last good graph stays


@dataclass(frozen=True, slots=True)
class ReloadResult:
    status: ReloadStatus
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    load: LoadResult | None = None


class InventoryReloader:
    """Watches one inventory file and keeps `store` in step with its last good version."""

    def __init__(self, path: Path | str, store: GraphStore) -> None:
        self.path = Path(path)
        self.store = store
        self.inventory: Inventory | None = None  # the last good one, live in the graph
        self.problems: tuple[Problem, ...] = ()  # of the current file, if it is bad
        self._stat: object = _NEVER
        self._digest: str | None = None

    def check(self) -> ReloadResult:
        """Reload if the file changed since the last call.

        Returns LOADED, UNCHANGED or REFUSED (with the problems). Raises
        GraphError if the backend fails while loading a valid inventory; the
        previous graph is then still live and the next call tries again.
        """
        stat = self._stat_of()
        if stat is not None and stat == self._stat:
            return ReloadResult(ReloadStatus.UNCHANGED)
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        if digest is not None and digest == self._digest:
            self._stat = stat
            return ReloadResult(ReloadStatus.UNCHANGED)
        try:
            inventory = load_inventory(self.path)
        except ConfigError as err:
            self._stat, self._digest = stat, digest
            self.problems = tuple(err.problems)
            log.error(
                "inventory %s refused, keeping the last good graph:\n%s",
                self.path,
                "\n".join(str(p) for p in err.problems),
            )
            return ReloadResult(ReloadStatus.REFUSED, tuple(err.problems), tuple(err.warnings))
        result = self.store.load(inventory)
        self._stat, self._digest = stat, digest
        self.inventory = inventory
        self.problems = ()
        for w in inventory.warnings:
            log.warning("%s", w)
        log.info(
            "inventory %s loaded: %d services, %d hosts, %d edges",
            self.path,
            result.services,
            result.hosts,
            result.edges,
        )
        return ReloadResult(ReloadStatus.LOADED, (), tuple(inventory.warnings), result)

    def _stat_of(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)
