"""Fuzzing the config and inventory loaders: whatever the file holds (arbitrary text,
broken YAML, documents of the right shape with wrong values, aliases), loading either
succeeds or raises ConfigError naming the file; never another exception.

The documents are built from the keys the schemas know, so that the fuzzing reaches
past the YAML parser into validation (ranges, references, durations, URLs).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.inventory import load_inventory
from logvigil.app.settings import load_settings
from logvigil.core.yamlfile import ConfigError

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["5m", "99999999999h", "-1d", "ftp://x", "Europe/Berlin", "CEST", "*"])
)


def _doc(keys: list[str]) -> st.SearchStrategy[Any]:
    key = st.sampled_from(keys) | st.text(max_size=12)
    return st.recursive(
        _scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=5),
        max_leaves=25,
    )


CONFIG_KEYS = [
    "data_dir", "database", "url", "event_retention_days", "count_retention_days",
    "sources", "type", "path", "format", "timezone", "name", "host", "detector",
    "tick_seconds", "learning_period_hours", "noise", "rules", "action", "match",
    "error_spike", "k_sigma", "min_count", "silence", "min_silent_minutes", "incidents",
    "grouping_window_minutes", "storm_host_kinds", "graph", "inventory", "llm", "provider",
    "model", "timeout_seconds", "notify", "discord", "webhook_url", "email", "port",
    "routes", "quiet_hours", "rate_limit", "metrics",
]  # fmt: skip
INVENTORY_KEYS = [
    "hosts", "services", "tags", "depends_on", "calls", "expect", "every", "match",
    "units", "identifiers", "containers", "db-01", "web-01", "postgres", "nginx",
]  # fmt: skip


def _load(loader: Any, text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "file.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "replace"))
        try:
            loader(path)
        except ConfigError as exc:
            assert str(path) in str(exc) or any(str(path) in str(p) for p in exc.problems)


def _as_yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


@FUZZ
@given(_doc(CONFIG_KEYS).map(lambda v: {"detector": v} if not isinstance(v, dict) else v))
def test_any_config_document_loads_or_is_a_located_error(doc: Any) -> None:
    _load(lambda p: load_settings(p, environ={}), _as_yaml(doc))


@FUZZ
@given(_doc(INVENTORY_KEYS))
def test_any_inventory_document_loads_or_is_a_located_error(doc: Any) -> None:
    _load(load_inventory, _as_yaml(doc))


@FUZZ
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_arbitrary_bytes_are_never_a_traceback(data: bytes | str) -> None:
    _load(lambda p: load_settings(p, environ={}), data)
    _load(load_inventory, data)
