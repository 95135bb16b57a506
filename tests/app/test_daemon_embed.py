"""The daemon's embedding backfill: its leader embeds the store's templates on a schedule
of their own, never on the ingest path, and a failing server is logged, not fatal."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from embed_server import EmbedServer, embed_server  # noqa: F401 - the fixture
from homelab_incidents import homelab_db  # noqa: F401 - the fixture
from sqlalchemy import func, select

from logvigil.app.daemon import Daemon, Role
from logvigil.app.leader import AlwaysLeader
from logvigil.app.runtime import Runtime
from logvigil.app.settings import Settings
from logvigil.store.schema import Template, TemplateEmbedding


@pytest.fixture
def runtime(homelab_db: Path, tmp_path: Path, embed_server: EmbedServer) -> Iterator[Runtime]:  # noqa: F811
    store = tmp_path / "store.db"
    shutil.copy(homelab_db, store)
    settings = Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "graph": {"inventory": str(tmp_path / "none.yaml")},
            "embeddings": {
                "provider": "openai",
                "model": "bag",
                "base_url": f"{embed_server.url}/v1",
            },
        }
    )
    rt = Runtime(settings, db_url=f"sqlite:///{store}")
    yield rt
    rt.close()


def rows(runtime: Runtime) -> tuple[int, int]:
    with runtime.engine.connect() as conn:
        templates = conn.execute(select(func.count()).select_from(Template)).scalar_one()
        vectors = conn.execute(select(func.count()).select_from(TemplateEmbedding)).scalar_one()
    return templates, vectors


def test_the_leader_embeds_the_templates(
    runtime: Runtime,
    embed_server: EmbedServer,  # noqa: F811 - the fixture
) -> None:
    daemon = Daemon(runtime, [], role=Role.DETECT, leader=AlwaysLeader())
    daemon.embed_templates()
    templates, vectors = rows(runtime)
    assert vectors == templates > 0
    daemon.embed_templates()  # nothing new: no request
    assert sum(len(r["input"]) for r in embed_server.requests) == templates


def test_a_failing_server_is_logged_and_retried(
    runtime: Runtime,
    embed_server: EmbedServer,  # noqa: F811 - the fixture
    caplog: pytest.LogCaptureFixture,
) -> None:
    embed_server.mode = "500"
    Daemon(runtime, [], role=Role.DETECT, leader=AlwaysLeader()).embed_templates()
    assert rows(runtime)[1] == 0
    assert "embedding templates failed" in caplog.text


def test_the_backfill_is_a_job_of_its_own_only_when_configured(
    runtime: Runtime, tmp_path: Path
) -> None:
    daemon = Daemon(runtime, [], role=Role.DETECT, leader=AlwaysLeader())
    daemon.start_scheduler()
    try:
        assert daemon.scheduler.get_job("embed") is not None
    finally:
        daemon.scheduler.shutdown(wait=False)
    plain = Runtime(
        Settings.model_validate(
            {"data_dir": str(tmp_path / "d2"), "graph": {"inventory": str(tmp_path / "no.yaml")}}
        ),
        db_url=f"sqlite:///{tmp_path / 'plain.db'}",
    )
    try:
        other = Daemon(plain, [], role=Role.DETECT, leader=AlwaysLeader())
        other.start_scheduler()
        try:
            assert other.scheduler.get_job("embed") is None
        finally:
            other.scheduler.shutdown(wait=False)
    finally:
        plain.close()
