"""Real incidents for the investigation tests (see `homelab_incidents`), an engine on
a module's private copy of them, and the real llama.cpp server (`llama_server`: the 270M
Gemma model behind `python -m llama_cpp.server`, one per session, shared by the tests of
the crew's wire path and of `investigate.chat`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from homelab_incidents import find_incident, homelab_db, incident_db  # noqa: F401 - fixtures
from llama_support import llama_cpp_server
from sqlalchemy import Engine, create_engine


@pytest.fixture(scope="module")
def engine(incident_db: Path) -> Iterator[Engine]:  # noqa: F811 - the fixture, not the import
    eng = create_engine(f"sqlite:///{incident_db}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the 270M Gemma model, on a free local port."""
    chat = {"model": "probe", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    with llama_cpp_server(
        tmp_path_factory.mktemp("llama"),
        *("--chat_format", "gemma", "--n_ctx", "4096"),
        probe={"chat/completions": chat},
    ) as url:
        yield url
