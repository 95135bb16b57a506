"""A Discord webhook URL is checked when the config is loaded: `check-config` refuses one
that could never deliver (exit 2, the field and line named), and no error shows the
token. Shapes from Discord's documentation: `https://discord.com/api/webhooks/<id>/<token>`
(Execute Webhook, `POST /webhooks/{webhook.id}/{webhook.token}` under the base URL
`https://discord.com/api`, optionally versioned `/api/v10`, with `?thread_id=`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from notify_fakes import TOKEN, FakeDiscord
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from logvigil.app.settings import load_settings
from logvigil.cli import app
from logvigil.core.yamlfile import ConfigError
from notify.config import NotifyConfig
from notify.discord.config import DiscordConfig

runner = CliRunner()
SECRET = "aB3_zz-SECRET-9y"


def check(tmp_path: Path, value: str) -> tuple[int, str]:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"notify:\n  discord:\n    webhook_url: {value}\n")
    result = runner.invoke(app, ["check-config", str(cfg)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.replace(str(cfg), "logvigil.yaml")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (f"ht!tp:/discord.com/api/webhooks/1234567890/{SECRET}", "must be an https:// URL"),
        (f"ftp://discord.com/api/webhooks/1234567890/{SECRET}", "must be an https:// URL"),
        (f"discord.com/api/webhooks/1234567890/{SECRET}", "must be an https:// URL"),
        (f"https://discord.com:99999/api/webhooks/1234567890/{SECRET}", "a port is 1 to 65535"),
        (f"https://discord.com:8443/api/webhooks/1234567890/{SECRET}", "port 443, not 8443"),
        (f"http://discord.com/api/webhooks/1234567890/{SECRET}", "must be https://"),
        (
            f"https://discord.com.evil.example/api/webhooks/1234567890/{SECRET}",
            "must be a webhook of discord.com, not of 'discord.com.evil.example'",
        ),
        (f"https://me:{SECRET}@discord.com/api/webhooks/1/x", "must not carry a user name"),
        (f"https://discord.com/api/webhooks/{SECRET}", "must have the path /api/webhooks/"),
        (f"https://discord.com/api/webhooks/abc/{SECRET}", "must have the path /api/webhooks/"),
        (f"https://discord.com/webhooks/1234567890/{SECRET}", "must have the path /api/webhooks/"),
        (f"https://discord.com/api/webhooks/1/{SECRET}#x", "must not end with a #fragment"),
        (f'"https://discord.com/api/webhooks/1/{SECRET}\\tx"', "must not contain spaces"),
        ('""', "must not be empty"),
        ("12345", "Input should be a valid string"),
        ("[1, 2]", "Input should be a valid string"),
    ],
)
def test_a_malformed_webhook_url_is_refused_naming_the_field_never_the_token(
    tmp_path: Path, value: str, why: str
) -> None:
    code, output = check(tmp_path, value)
    assert code == 2, output
    assert output.startswith("error: logvigil.yaml:3: notify.discord.webhook_url: "), output
    assert why in output
    assert SECRET not in output


@pytest.mark.parametrize(
    "value",
    [
        f"https://discord.com/api/webhooks/1234567890123456789/{SECRET}",
        f"https://discordapp.com/api/webhooks/1234567890123456789/{SECRET}",
        f"https://ptb.discord.com/api/webhooks/1/{SECRET}",
        f"https://canary.discord.com/api/v10/webhooks/1/{SECRET}?thread_id=123",
        f"https://discord.com:443/api/webhooks/1/{SECRET}/",
        f"  https://discord.com/api/webhooks/1/{SECRET}  ",
    ],
)
def test_the_shapes_discord_hands_out_are_accepted(tmp_path: Path, value: str) -> None:
    code, output = check(tmp_path, f'"{value}"')
    assert code == 0, output
    s = load_settings(tmp_path / "logvigil.yaml", environ={})
    assert s.notify.discord is not None
    assert s.notify.discord.webhook_url.get_secret_value() == value.strip()


def test_http_is_accepted_for_a_loopback_test_server(discord: FakeDiscord, tmp_path: Path) -> None:
    assert discord.url.startswith("http://127.0.0.1:")
    assert check(tmp_path, discord.url)[0] == 0
    for host in ("localhost:8080", "[::1]:8080"):
        assert check(tmp_path, f"http://{host}/api/webhooks/1/{SECRET}")[0] == 0
    code, output = check(tmp_path, f"http://10.0.0.5:8080/api/webhooks/1/{SECRET}")
    assert code == 2 and "http:// only for a loopback test server" in output


def test_a_bad_url_from_the_environment_names_the_variable_not_the_token() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(
            environ={"LOGVIGIL_DISCORD_WEBHOOK_URL": f"ftp://discord.com/api/webhooks/1/{TOKEN}"}
        )
    assert str(exc.value).startswith(
        "environment variable LOGVIGIL_DISCORD_WEBHOOK_URL: notify.discord.webhook_url: "
        "must be an https:// URL"
    )
    assert TOKEN not in str(exc.value)


def test_a_validation_error_printed_whole_does_not_show_the_url() -> None:
    bad = f"https://evil.example/api/webhooks/1/{TOKEN}"
    for build in (
        lambda: DiscordConfig(webhook_url=SecretStr(bad)),
        lambda: DiscordConfig.model_validate({"webhook_url": bad}),
        lambda: NotifyConfig.model_validate({"discord": {"webhook_url": bad}}),
    ):
        with pytest.raises(ValidationError) as exc:
            build()
        assert TOKEN not in str(exc.value) and "evil.example" in str(exc.value)
