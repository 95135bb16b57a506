"""Hostile configuration, inventory and command-line input: each refused with a located
error and exit 2, never a traceback, in bounded time and memory.

YAML aliases cannot blow a file up ("billion laughs"), nest without end or refer to
themselves; every numeric setting has an upper bound, so no date or size computed
from one overflows; CLI durations are bounded too. The webhook URL cases are in
tests/notify/test_webhook_url_config.py.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from logvigil.app.daemon import Daemon, Role
from logvigil.app.runtime import Runtime
from logvigil.app.settings import Settings
from logvigil.cli import app
from logvigil.core.duration import MAX_DURATION, parse_duration
from logvigil.core.yamlfile import (
    ALIAS_EXPANSION_FLOOR,
    MAX_DEPTH,
    ConfigError,
    load_yaml,
    parse_yaml,
)
from logvigil.evaluation.scenario import load_scenario
from logvigil.ingest.templates import MinerConfig

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]

#: Address space of a CLI run under a memory cap: `check-config` needs about 200 MB;
#: expanding the nine-level bomb below takes gigabytes (a MemoryError before the fix).
MEMORY_CAP = 512 * 1024 * 1024


def billion_laughs(levels: int = 9, *, width: int = 9, tail: str = "") -> str:
    """The classic: `a` holds `width` strings, each next anchor `width` aliases of the last."""
    lines = ["a: &a [" + ", ".join(["lol"] * width) + "]"]
    prev = "a"
    for i in range(1, levels):
        name = f"l{i}"
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
        prev = name
    return "\n".join(lines) + "\n" + tail.replace("LAST", prev)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def run_capped(*args: str) -> subprocess.CompletedProcess[str]:
    """`logvigil ARGS` in a child process whose address space is capped at MEMORY_CAP."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGVIGIL_")}
    env["OPENBLAS_NUM_THREADS"] = "1"  # numpy's thread pool reserves address space
    return subprocess.run(
        [sys.executable, "-m", "logvigil.cli", *args],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        env=env,
        cwd=REPO,
        timeout=300,
    )


# --------------------------------------------------------------------------- YAML aliases


def test_a_billion_laughs_inventory_is_refused_by_graph_check_under_a_memory_cap(
    tmp_path: Path,
) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(billion_laughs(tail="hosts: {h1: {tags: *LAST}}\n"))
    done = run_capped("graph", "check", "--inventory", str(inv))
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "MemoryError" not in output
    assert f"{inv}:10: too many aliases: alias expansion makes the document" in output
    assert "*l8 here alone 435,848,050" in output


def test_a_billion_laughs_config_is_refused_by_check_config_under_a_memory_cap(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(billion_laughs(tail="detector:\n  primitive:\n    disabled: *LAST\n"))
    done = run_capped("check-config", str(cfg))
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "MemoryError" not in output
    assert f"{cfg}:12: too many aliases" in output


def test_the_loader_refuses_before_expanding_anything() -> None:
    # 9 ** 40 values once expanded: only a loader that counts before building can answer.
    text = billion_laughs(40, tail="top: *LAST\n")
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "bomb.yaml")
    (problem,) = exc.value.problems
    # Counting stops at 10**15: the first alias that reaches it is named (*l15, on line 17).
    assert problem.line == 17 and "(*l15 here alone more than" in problem.message
    assert problem.message.startswith(
        "too many aliases: alias expansion makes the document more than 1,000,000,000,000,000"
    )


def test_a_wide_fan_out_of_one_alias_is_refused_too() -> None:
    # No nesting at all: one list of 2,000 values aliased 2,000 times.
    text = "a: &a [" + ", ".join(["x"] * 2000) + "]\nb: [" + ", ".join(["*a"] * 2000) + "]\n"
    with pytest.raises(ConfigError, match=r"^bomb.yaml:2: too many aliases"):
        parse_yaml(text, "bomb.yaml")


@pytest.mark.parametrize(
    ("text", "line", "name"),
    [
        ("a: &a [*a]\n", 1, "a"),
        ("a: &a\n  b: *a\n", 2, "a"),
        ("hosts:\n  h1: &h\n    tags: [x, *h]\n", 3, "h"),
    ],
)
def test_an_alias_that_contains_itself_is_refused(text: str, line: int, name: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "loop.yaml")
    assert str(exc.value) == (
        f"loop.yaml:{line}: alias *{name} refers to a value that contains it (a recursive alias)"
    )


def test_nesting_deeper_than_the_limit_is_refused_through_aliases_too() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert parse_yaml(ok, "ok.yaml").data["a"] is not None
    with pytest.raises(ConfigError, match=r"^deep.yaml:1: nested too deeply"):
        parse_yaml("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "deep.yaml")
    # Each half alone is allowed; the alias puts one inside the other.
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    with pytest.raises(ConfigError, match=r"^deep.yaml:2: nested too deeply: alias \*a"):
        parse_yaml(text, "deep.yaml")


def test_a_hundred_thousand_nested_brackets_are_refused_in_a_child_process(
    tmp_path: Path,
) -> None:
    # libyaml's composer recursed on these until the process crashed (SIGSEGV).
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("detector: " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = run_capped("check-config", str(cfg))
    output = done.stdout + done.stderr
    assert done.returncode == 2, (done.returncode, output[-2000:])
    assert f"{cfg}:1: nested too deeply: more than {MAX_DEPTH} levels" in output
    assert "Traceback" not in output


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(
        "notify:\n"
        "  quiet_hours:\n"
        "    console: &night {start: '22:00', end: '07:00', timezone: Europe/Berlin}\n"
        "  routes:\n"
        "    - &route {service: postgres, min_severity: error, channels: [console]}\n"
        "    - {<<: *route, service: nginx}\n"
        "detector:\n"
        "  primitive:\n"
        "    disabled: &off [nic_hang]\n"
    )
    code, output = run("check-config", str(cfg))
    assert code == 0, output
    doc = load_yaml(cfg)
    assert doc.data["notify"]["routes"][1] == {
        "service": "nginx",
        "min_severity": "error",
        "channels": ["console"],
    }


def test_reuse_up_to_the_floor_is_allowed() -> None:
    # 100 values aliased 90 times: about 9,100 values expanded, under the 10,000 floor.
    text = "a: &a [" + ", ".join(["x"] * 99) + "]\nb: [" + ", ".join(["*a"] * 90) + "]\n"
    assert len(parse_yaml(text, "ok.yaml").data["b"]) == 90
    assert ALIAS_EXPANSION_FLOOR == 10_000
    # A bigger file may reuse more: 2,000 own values, each aliased to ~9 times that.
    hosts = "".join(f"  h{i}: {{tags: *t}}\n" for i in range(1900))
    text = "t: &t [" + ", ".join(["x"] * 9) + "]\nhosts:\n" + hosts
    assert len(parse_yaml(text, "ok.yaml").data["hosts"]) == 1900


def test_a_scenario_file_goes_through_the_same_loader(tmp_path: Path) -> None:

    (tmp_path / "scenario.yaml").write_text(billion_laughs(tail="faults: *LAST\n"))
    with pytest.raises(ConfigError, match=r"scenario.yaml:10: too many aliases"):
        load_scenario(tmp_path)


def test_the_daemon_refuses_a_bomb_on_reload_and_keeps_the_last_good_inventory(
    tmp_path: Path,
) -> None:

    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        "hosts:\n  db-01: {}\nservices:\n  postgres: {hosts: [db-01]}\n"
        "  backup: {hosts: [db-01], depends_on: [postgres]}\n"
    )
    settings = Settings.model_validate(
        {"data_dir": str(tmp_path / "data"), "graph": {"inventory": str(inv)}}
    )
    runtime = Runtime(settings, db_url=f"sqlite:///{tmp_path / 'store.db'}")
    try:
        daemon = Daemon(runtime, [], role=Role.DETECT)
        daemon.reload_inventory()
        good = runtime.inventory
        assert sorted(good.services) == ["backup", "postgres"]

        stat = inv.stat()
        inv.write_text(billion_laughs(tail="hosts: {db-01: {tags: *LAST}}\n"))
        os.utime(inv, ns=(stat.st_mtime_ns + 10**9, stat.st_mtime_ns + 10**9))
        daemon.reload_inventory()

        assert runtime.inventory is good
        problems = daemon.status().problems
        assert len(problems) == 1
        assert problems[0].startswith(f"{inv}:10: too many aliases")
    finally:
        runtime.close()


# --------------------------------------------------------------------------- numeric ranges


@pytest.mark.parametrize(
    ("yaml_text", "where", "bound"),
    [
        (
            "database:\n  event_retention_days: 99999999999999999999999999999999\n",
            "2: database.event_retention_days",
            "less than or equal to 36500",
        ),
        (
            "database:\n  count_retention_days: 36501\n",
            "2: database.count_retention_days",
            "less than or equal to 36500",
        ),
        (
            "detector:\n  tick_seconds: 1000000000000\n",
            "2: detector.tick_seconds",
            "less than or equal to 3600",
        ),
        (
            "detector:\n  error_spike:\n    min_count: 1e30\n",
            "3: detector.error_spike.min_count",
            "",
        ),
        (
            "detector:\n  error_spike:\n    half_life_minutes: .inf\n",
            "3: detector.error_spike.half_life_minutes",
            "less than or equal to 14400",
        ),
        (
            "detector:\n  error_spike:\n    k_sigma: .nan\n",
            "3: detector.error_spike.k_sigma",
            "got: nan",
        ),
        (
            "detector:\n  incidents:\n    grouping_window_minutes: 99999999999999\n",
            "3: detector.incidents.grouping_window_minutes",
            "less than or equal to 10080",
        ),
        (
            "detector:\n  incidents:\n    cooldown_minutes: 10081\n",
            "3: detector.incidents.cooldown_minutes",
            "less than or equal to 10080",
        ),
        (
            "detector:\n  incidents:\n    bundle:\n      max_bytes: 99999999999\n",
            "4: detector.incidents.bundle.max_bytes",
            "less than or equal to 16777216",
        ),
        (
            "notify:\n  rate_limit:\n    console: {max_messages: 5, per_minutes: 9999999999}\n",
            "3: notify.rate_limit.console.per_minutes",
            "less than or equal to 10080",
        ),
    ],
)
def test_a_number_out_of_range_is_a_located_error(
    tmp_path: Path, yaml_text: str, where: str, bound: str
) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(yaml_text)
    code, output = run("check-config", str(cfg))
    assert code == 2, output
    assert f"{cfg}:{where}: " in output
    assert bound in output


def test_the_largest_retention_is_accepted_and_prune_runs_with_it(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("database:\n  event_retention_days: 36500\n  count_retention_days: 36500\n")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    (tmp_path / "empty.jsonl").write_text("")
    assert run("ingest", str(tmp_path / "empty.jsonl"), "--db", db)[0] == 0  # a store to prune
    code, output = run("prune", "--config", str(cfg), "--db", db)
    assert code == 0, output
    assert "purged 0 events (> 36500 days)" in output


def test_prune_with_a_huge_retention_exits_2_instead_of_overflowing(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("database:\n  event_retention_days: 99999999999999999999999999999999\n")
    code, output = run("prune", "--config", str(cfg), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2
    assert f"{cfg}:2: database.event_retention_days: " in output


def test_backtest_with_a_huge_tick_exits_2_instead_of_overflowing(tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text("detector:\n  tick_seconds: 1000000000000\n")
    log = tmp_path / "app.jsonl"
    log.write_text(
        '{"ts": "2026-03-04T10:00:00Z", "host": "db-01", "service": "postgres", '
        '"severity": "info", "message": "database system is ready to accept connections"}\n'
    )
    code, output = run("backtest", str(log), "--config", str(cfg))
    assert code == 2
    assert f"{cfg}:2: detector.tick_seconds: " in output


@pytest.mark.parametrize("duration", ["99999999999h", "9" * 5000 + "w", "91d"])
def test_a_silence_longer_than_its_limit_exits_2(tmp_path: Path, duration: str) -> None:
    code, output = run(
        "silence", "add", "--for", duration, "--reason", "maintenance",
        "--service", "postgres", "--db", f"sqlite:///{tmp_path / 'x.db'}",
    )  # fmt: skip
    assert code == 2
    assert "--for: must be at most 90d" in output


def test_no_duration_is_longer_than_ten_years() -> None:
    assert parse_duration("3650d") == MAX_DURATION == timedelta(days=3650)
    for text in ("3651d", "99999999999999999999w", "1" + "0" * 5000 + "s"):
        with pytest.raises(ValueError, match="must be at most 3650d"):
            parse_duration(text)
    with pytest.raises(ValueError, match="must be at most 3650d"):
        parse_duration("5000d", at_most=timedelta(days=100_000))  # a caller cannot widen it


def test_a_heartbeat_of_a_billion_hours_is_a_located_inventory_error(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        "hosts:\n  nas-01: {}\nservices:\n"
        "  backup:\n    hosts: [nas-01]\n    expect: {every: 99999999999999999999h}\n"
    )
    code, output = run("graph", "check", "--inventory", str(inv))
    assert code == 2
    assert f"{inv}:6: services.backup.expect.every: must be at most 30d" in output


@pytest.mark.parametrize(
    "field", ["max_templates", "max_templates_per_group", "cache_size", "token_cache_size"]
)
def test_the_miners_sizes_are_bounded(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        MinerConfig(**{field: 10**12})


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("llm:\n  timeout_seconds: 1.0e12\n", "llm.timeout_seconds"),
        ("llm:\n  max_calls: 99999999999\n", "llm.max_calls"),
        (
            "sources:\n  - {type: loki, url: 'http://loki:3100', timeout_seconds: 1.0e12}\n",
            "timeout_seconds",
        ),
        (
            "sources:\n  - {type: ssh_journald, host: db-01, connect_timeout_s: 99999999999}\n",
            "connect_timeout_s",
        ),
    ],
)
def test_timeouts_and_budgets_are_bounded(tmp_path: Path, yaml_text: str, field: str) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(yaml_text)
    code, output = run("check-config", str(cfg))
    assert code == 2, output
    assert field in output and "less than or equal to" in output
    assert "Traceback" not in output
