"""Shared fixtures: real databases (SQLite always; PostgreSQL and MariaDB when their
URLs are exported), an isolated data directory for every test, and the real llama.cpp
server (`llama_server`: the 270M Gemma model behind `python -m llama_cpp.server`, one per
session, shared by the crew's wire path, `investigate.chat` and `ask --llm`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_support import llama_cpp_server
from scenario_backtests import ScenarioBacktests
from sqlalchemy import Engine, inspect, text

from logvigil.store.database import create_store_engine
from migrations.apply import migrate

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Files and live sources read timestamps without an offset in the machine's zone
# (`inputs.machine_zone`): the tests run as on a machine set to UTC, wherever they run,
# and so do the CLI processes they start. A test of another zone says so.
os.environ["TZ"] = "UTC"

_SERVER_BACKENDS = {
    "postgresql": "LOGVIGIL_TEST_POSTGRES_URL",
    "mariadb": "LOGVIGIL_TEST_MARIADB_URL",
}


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config, data directory or overrides."""
    for var in list(os.environ):
        if var.startswith("LOGVIGIL_") and not var.startswith("LOGVIGIL_TEST_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("LOGVIGIL_DATA_DIR", str(tmp_path / "data"))


def _wipe(engine: Engine) -> None:
    """Drop every table (ours and Alembic's) so each test starts from an empty schema."""
    names = inspect(engine).get_table_names()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA foreign_keys=OFF"))
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name in names:
            q = engine.dialect.identifier_preparer.quote(name)
            cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TABLE IF EXISTS {q}{cascade}"))
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


def backend_url(name: str, tmp_path: Path) -> str:
    """The URL of backend `name` for one test; skips when a server backend is not configured."""
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url = os.environ.get(_SERVER_BACKENDS[name])
    if not url:
        pytest.skip(f"{_SERVER_BACKENDS[name]} is not set")
    return url


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, wiped before and after the test."""
    url = backend_url(request.param, tmp_path)
    engine = create_store_engine(url)
    _wipe(engine)
    yield url
    _wipe(engine)
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated store on each backend."""
    eng = create_store_engine(db_url)
    migrate(eng)
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


@pytest.fixture(scope="session")
def scenario_backtests(tmp_path_factory: pytest.TempPathFactory) -> ScenarioBacktests:
    """The scenarios of tests/scenarios, each backtested once per session (the suite
    scores their incidents, the search sets query their stores)."""
    return ScenarioBacktests(tmp_path_factory.mktemp("scenario-stores"))
