"""Configuration: defaults, environment overrides, and golden error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from logvigil.app.settings import ConfigError, Settings, load_settings

GOLDEN = Path(__file__).parent / "golden" / "config"
CASES = sorted(p.stem for p in GOLDEN.glob("bad_*.yaml"))


def test_no_file_at_all_gives_safe_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"LOGVIGIL_DATA_DIR": str(tmp_path / "d")})
    assert s.database_url == f"sqlite:///{tmp_path / 'd' / 'logvigil.db'}"
    assert s.llm.provider == "none"
    assert s.detector.noise.defaults is True
    assert s.notify.console is True
    assert s.database.event_retention_days == 7 and s.database.count_retention_days == 90


def test_the_implicit_file_in_the_working_directory_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logvigil.yaml").write_text("detector:\n  learning_period_hours: 2\n")
    assert load_settings(environ={}).detector.learning_period_hours == 2


def test_logvigil_config_names_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "x.yaml"
    cfg.write_text("database:\n  url: sqlite:////tmp/elsewhere.db\n")
    s = load_settings(environ={"LOGVIGIL_CONFIG": str(cfg)})
    assert s.database_url == "sqlite:////tmp/elsewhere.db"


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("database:\n  url: sqlite:////tmp/file.db\nllm:\n  provider: none\n")
    s = load_settings(
        cfg,
        environ={
            "LOGVIGIL_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "LOGVIGIL_LLM_PROVIDER": "ollama",
            "LOGVIGIL_INVENTORY": "/etc/logvigil/inventory.yaml",
            "LOGVIGIL_DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/secret-token",
        },
    )
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.llm.provider == "ollama"
    assert str(s.graph.inventory) == "/etc/logvigil/inventory.yaml"
    assert s.notify.discord is not None
    assert "secret-token" not in repr(s) and "secret-token" not in str(s.model_dump())


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(environ={"LOGVIGIL_LLM_PROVIDER": "gpt-9"})
    assert str(exc.value) == (
        "environment variable LOGVIGIL_LLM_PROVIDER: llm.provider: "
        "Input should be 'none', 'ollama' or 'openai', got: 'gpt-9'"
    )


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "notify:\n  discord:\n    webhook_url: https://d/api/webhooks/1/tok3n\n    x: 1\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, environ={})
    assert "tok3n" not in str(exc.value)


@pytest.mark.parametrize("case", CASES)
def test_bad_config_gives_the_golden_error(case: str, monkeypatch) -> None:
    monkeypatch.chdir(GOLDEN)
    with pytest.raises(ConfigError) as exc:
        load_settings(f"{case}.yaml", environ={})
    expected = (GOLDEN / f"{case}.txt").read_text().rstrip("\n")
    assert str(exc.value) == expected


def test_every_golden_case_has_its_expected_text() -> None:
    assert CASES, "golden cases missing"
    for case in CASES:
        assert (GOLDEN / f"{case}.txt").is_file(), case


def test_settings_are_frozen() -> None:
    with pytest.raises(Exception, match="frozen"):
        Settings().llm = None  # type: ignore[misc]
