"""The inventory's `expect:` heartbeats: durations accepted, and what the detectors get.

The refused values (`every: 0`, `soon`, `-5m`, a bare number, unknown keys, quiet with
expect, no hosts) are golden cases: `golden/bad_expect_*.yaml` with their exact errors.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from graph.inventory import load_inventory, parse_every
from logvigil.app.runtime import services_of

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory.yaml"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), (" 5M ", 300)],
)
def test_a_duration_with_a_unit_is_accepted(text: str, seconds: int) -> None:
    assert parse_every(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["0m", "5", "5 minutes", "m5", "-5m", "", "5m-", True, None])
def test_anything_else_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match=r"duration|positive|unit"):
        parse_every(bad)


def test_a_heartbeat_reaches_the_detectors_on_each_host(write_inventory) -> None:
    inv = load_inventory(
        write_inventory(
            "hosts: {nas-01: {}, nas-02: {}}\n"
            "services:\n"
            "  backup: {hosts: [all], expect: {every: 25h}}\n"
            "  nfs: {hosts: [nas-01]}\n"
        )
    )
    info = services_of(inv)
    assert info["backup"].heartbeat == timedelta(hours=25)
    assert info["backup"].hosts == ("nas-01", "nas-02")
    assert info["nfs"].heartbeat is None


def test_a_heartbeat_changes_the_inventory_fingerprint(write_inventory) -> None:
    plain = load_inventory(write_inventory("hosts: {h: {}}\nservices:\n  s: {hosts: [h]}\n"))
    beat = load_inventory(
        write_inventory("hosts: {h: {}}\nservices:\n  s: {hosts: [h], expect: {every: 5m}}\n")
    )
    assert plain.fingerprint() != beat.fingerprint()


def test_the_commented_example_in_inventory_yaml_is_valid_once_uncommented(
    write_inventory,
) -> None:
    text = EXAMPLE.read_text()
    assert "    # expect: {every: 25h}\n" in text
    text = text.replace("    quiet: true        # runs once a night\n", "").replace(
        "    # expect: {every: 25h}\n", "    expect: {every: 25h}\n"
    )
    inv = load_inventory(write_inventory(text))
    assert services_of(inv)["backup"].heartbeat == timedelta(hours=25)
