"""Fixtures of the notify tests: a fake Discord server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notify_fakes import FakeDiscord


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    server = FakeDiscord().start()
    yield server
    server.stop()
