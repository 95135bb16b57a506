"""Real incidents for the investigation tests (see `homelab_incidents`), and an engine on
a module's private copy of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from homelab_incidents import find_incident, homelab_db, incident_db  # noqa: F401 - fixtures
from sqlalchemy import Engine, create_engine


@pytest.fixture(scope="module")
def engine(incident_db: Path) -> Iterator[Engine]:  # noqa: F811 - the fixture, not the import
    eng = create_engine(f"sqlite:///{incident_db}")
    yield eng
    eng.dispose()
