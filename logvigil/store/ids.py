"""Template ids for several ingest processes writing into one store.

Each process's miner creates templates on its own; ids must still never
collide. `TemplateIdBlocks` reserves blocks of ids from a counters row
(`('template_ids', 'next')`: the first id nobody has reserved), advanced in
one transaction that the row's lock serialises on every backend, and hands
them out one by one. A process that stops leaves the rest of its block unused
(ids are not dense, only unique).

Two ingest processes know only the templates that existed when they started,
so they may mine the same new text under two ids; its counts are then split
between the two. Detection per service is unaffected as long as each host's
logs go to one ingest process.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import DBAPIError

from logvigil.store.database import StoreError, describe_db_error
from logvigil.store.schema import Counter, Template
from logvigil.store.upsert import upsert

log = logging.getLogger(__name__)

COUNTER_NAME = "template_ids"
COUNTER_KEY = "next"
#: Ids reserved per round trip: one transaction per thousand new templates.
DEFAULT_BLOCK = 1000
#: Attempts (1, 2, 4, ... seconds apart) before a reservation gives up.
ATTEMPTS = 5


def reserve_block(engine: Engine, size: int = DEFAULT_BLOCK) -> range:
    """Reserve `size` ids no other process will get; returns them as a range.

    The block starts at or above every stored template id, so ids a miner
    without blocks made (`max + 1`) are never handed out again. Raises
    StoreError when the store refuses.
    """
    if size < 1:
        raise ValueError(f"block size must be positive, got: {size}")
    c = Counter.__table__.c
    where = (c.name == COUNTER_NAME) & (c.key == COUNTER_KEY)
    try:
        with engine.connect() as conn:
            floor = (conn.execute(select(func.max(Template.id))).scalar() or 0) + 1
        # The transaction's first statement writes, so SQLite takes its write lock with
        # a fresh snapshot (a read first could not be upgraded under a concurrent writer).
        with engine.begin() as conn:
            # Create the row, or raise it to the floor: "max" never moves it back.
            upsert(
                conn,
                Counter.__table__,
                [{"name": COUNTER_NAME, "key": COUNTER_KEY, "count": floor}],
                {"count": "max"},
            )
            # The UPDATE locks the row until commit: a concurrent reservation waits here.
            conn.execute(update(Counter.__table__).where(where).values(count=c.count + size))
            end = conn.execute(select(c.count).where(where)).scalar_one()
    except DBAPIError as exc:
        raise StoreError(
            describe_db_error(exc, engine.url.render_as_string(hide_password=False))
        ) from None
    return range(end - size, end)


class TemplateIdBlocks:
    """A `next_id` callable for `TemplateMiner`: ids from blocks reserved in the store.

    A reservation that fails is retried with backoff; after `ATTEMPTS` it
    raises StoreError (the daemon then exits, and the cursor it has not
    committed makes the restarted daemon read the same lines again).
    """

    def __init__(self, engine: Engine, block: int = DEFAULT_BLOCK) -> None:
        self.engine = engine
        self.block = block
        self._ids: range = range(0)
        self._pos = 0

    def __call__(self) -> int:
        if self._pos >= len(self._ids):
            self._ids, self._pos = self._reserve(), 0
        tid = self._ids[self._pos]
        self._pos += 1
        return tid

    def _reserve(self) -> range:
        for attempt in range(ATTEMPTS):
            try:
                ids = reserve_block(self.engine, self.block)
                log.debug("reserved template ids %d-%d", ids.start, ids.stop - 1)
                return ids
            except StoreError as exc:
                if attempt == ATTEMPTS - 1:
                    raise
                log.warning("reserving template ids failed (%s); retrying", exc)
                time.sleep(2**attempt)
        raise AssertionError("unreachable")
