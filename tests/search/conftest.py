"""The synthetic homelab with faults, backtested (see `homelab_incidents`): a real store;
and a local embedding server (`embed_server`)."""

from __future__ import annotations

from embed_server import embed_server  # noqa: F401 - the fixture
from homelab_incidents import homelab_db  # noqa: F401 - the fixture
