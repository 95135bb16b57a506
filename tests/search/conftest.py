"""The synthetic homelab with faults, backtested (see `homelab_incidents`): a real store."""

from __future__ import annotations

from homelab_incidents import homelab_db  # noqa: F401 - the fixture
