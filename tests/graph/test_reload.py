"""Editing the inventory reshapes the blast radius; a bad edit keeps the last good graph."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph import queries
from graph.reload import InventoryReloader, ReloadStatus
from graph.store import GraphStore

BEFORE = """\
hosts:
  db-01: {}
  web-01: {}
services:
  postgres: {hosts: [db-01]}
  nextcloud: {hosts: [web-01], depends_on: [postgres]}
  nginx: {hosts: [web-01], calls: [nextcloud]}
  gitea: {hosts: [web-01]}
"""

AFTER = BEFORE.replace(
    "gitea: {hosts: [web-01]}", "gitea: {hosts: [web-01], depends_on: [postgres]}"
)

BAD = BEFORE.replace(
    "gitea: {hosts: [web-01]}", "gitea: {hosts: [web-01], depends_on: [postgress]}"
)


def edit(path: Path, text: str) -> None:
    """Rewrite the file and move its mtime on, as an editor saving a second later would."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.fixture
def reloader(store: GraphStore, tmp_path: Path) -> InventoryReloader:
    path = tmp_path / "inventory.yaml"
    edit(path, BEFORE)
    r = InventoryReloader(path, store)
    assert r.check().status is ReloadStatus.LOADED
    return r


def radius(r: InventoryReloader) -> list[str]:
    return queries.blast_radius(r.store, "postgres").names()


def test_an_edit_changes_the_blast_radius(reloader: InventoryReloader) -> None:
    assert radius(reloader) == ["nextcloud", "nginx"]
    edit(reloader.path, AFTER)
    result = reloader.check()
    assert result.status is ReloadStatus.LOADED
    assert result.load is not None and result.load.changed
    assert radius(reloader) == ["gitea", "nextcloud", "nginx"]


def test_an_untouched_file_is_not_reloaded(reloader: InventoryReloader) -> None:
    assert reloader.check().status is ReloadStatus.UNCHANGED


def test_a_touched_file_with_the_same_content_is_not_reloaded(reloader: InventoryReloader) -> None:
    edit(reloader.path, BEFORE)
    assert reloader.check().status is ReloadStatus.UNCHANGED


def test_a_bad_edit_is_refused_and_the_last_good_graph_still_answers(
    reloader: InventoryReloader,
) -> None:
    good = reloader.inventory
    edit(reloader.path, BAD)
    result = reloader.check()
    assert result.status is ReloadStatus.REFUSED
    assert [str(p) for p in result.problems] == [
        f"{reloader.path}:8: services.gitea.depends_on[0]: "
        "undefined service 'postgress' (did you mean \"postgres\"?)"
    ]
    assert reloader.inventory is good
    assert radius(reloader) == ["nextcloud", "nginx"]
    # reported once, not on every tick
    assert reloader.check().status is ReloadStatus.UNCHANGED
    assert reloader.problems == result.problems


def test_fixing_a_bad_edit_loads_the_fix(reloader: InventoryReloader) -> None:
    edit(reloader.path, BAD)
    assert reloader.check().status is ReloadStatus.REFUSED
    edit(reloader.path, AFTER)
    assert reloader.check().status is ReloadStatus.LOADED
    assert reloader.problems == ()
    assert radius(reloader) == ["gitea", "nextcloud", "nginx"]


def test_a_deleted_file_is_refused_and_the_graph_kept(reloader: InventoryReloader) -> None:
    reloader.path.unlink()
    result = reloader.check()
    assert result.status is ReloadStatus.REFUSED
    assert "file not found" in result.problems[0].message
    assert radius(reloader) == ["nextcloud", "nginx"]


def test_a_first_check_of_a_missing_file_is_refused(store: GraphStore, tmp_path: Path) -> None:
    r = InventoryReloader(tmp_path / "missing.yaml", store)
    assert r.check().status is ReloadStatus.REFUSED
    assert r.inventory is None
