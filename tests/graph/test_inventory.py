"""Inventory validation: golden error texts, warnings, and what a valid file yields."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.inventory import Inventory, load_inventory
from logvigil.core.yamlfile import ConfigError

GOLDEN = Path(__file__).parent / "golden"
BAD = sorted(GOLDEN.glob("bad_*.yaml"))
WARN = sorted(GOLDEN.glob("warn_*.yaml"))


def _expected(case: Path) -> str:
    return case.with_suffix(".txt").read_text()


@pytest.mark.parametrize("case", BAD, ids=[p.stem for p in BAD])
def test_each_bad_inventory_is_refused_with_its_golden_errors(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)  # problems name the file as given: keep it relative
    with pytest.raises(ConfigError) as exc:
        load_inventory(case.name)
    got = "\n".join(str(p) for p in exc.value.problems + exc.value.warnings) + "\n"
    assert got == _expected(case)


@pytest.mark.parametrize("case", WARN, ids=[p.stem for p in WARN])
def test_each_warning_inventory_loads_with_its_golden_warnings(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)
    inv = load_inventory(case.name)
    assert "\n".join(str(w) for w in inv.warnings) + "\n" == _expected(case)


def test_every_golden_case_has_an_expected_text() -> None:
    assert BAD and WARN
    for case in BAD + WARN:
        assert case.with_suffix(".txt").is_file(), case


def test_the_example_inventory_is_valid_and_has_no_warnings(homelab: Inventory) -> None:
    assert homelab.warnings == []
    assert {"postgres", "nextcloud", "nginx", "gitea"} <= set(homelab.services)
    assert {"db-01", "web-01", "nas-01"} <= set(homelab.hosts)


def test_all_hosts_expands_to_every_declared_host(homelab: Inventory) -> None:
    assert homelab.hosts_of("sshd") == list(homelab.hosts)
    assert homelab.hosts_of("postgres") == ["db-01"]


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_inventory(tmp_path / "nope.yaml")


def test_an_empty_file_is_an_empty_inventory(write_inventory) -> None:
    inv = load_inventory(write_inventory(""))
    assert inv.services == {} and inv.hosts == {}


def test_a_service_without_match_matches_its_own_name(write_inventory) -> None:
    inv = load_inventory(write_inventory("services:\n  nginx: {}\n"))
    match = inv.services["nginx"].effective_match("nginx")
    assert match.identifiers == ["nginx"]
    assert match.units == ["nginx.service"]


def test_declared_dependencies_and_extra_edges_become_one_edge_list(homelab: Inventory) -> None:
    edges = {(e.source, e.target, e.type) for e in homelab.edges_all()}
    assert ("nextcloud", "postgres", "DEPENDS_ON") in edges
    assert ("nginx", "nextcloud", "CALLS") in edges
    assert ("backup", "nas-01", "STORES_ON") in edges
    assert all(e.type in ("DEPENDS_ON", "CALLS") for e in homelab.impact_edges())


def test_the_fingerprint_ignores_layout_but_not_content(write_inventory) -> None:
    a = load_inventory(write_inventory("services:\n  a: {}\n  b: {depends_on: [a]}\n", "a.yaml"))
    b = load_inventory(
        write_inventory(
            "# comment\nservices:\n  a: {}\n  b:\n    depends_on:\n      - a\n", "b.yaml"
        )
    )
    c = load_inventory(write_inventory("services:\n  a: {}\n  b: {calls: [a]}\n", "c.yaml"))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_errors_and_warnings_are_reported_together(write_inventory) -> None:
    path = write_inventory(
        "services:\n  a: {calls: [b]}\n  b: {calls: [a]}\n  c: {depends_on: [zz]}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_inventory(path)
    assert [p.message for p in exc.value.problems] == ["undefined service 'zz'"]
    assert [w.message for w in exc.value.warnings] == ["dependency cycle: a -> b -> a"]
