"""The `notify.discord` section: one webhook, whose URL is the secret.

The URL is checked when the config is loaded, so `check-config` finds a webhook
that could never deliver: it must be `https://discord.com/api/webhooks/<id>/<token>`
(also `discordapp.com`, `ptb.` and `canary.`, an API version such as `/api/v10/`,
and a query such as `?thread_id=...`). `http://` is accepted only for a loopback
host (a local test server). An error names the field and says what is wrong,
never quoting the URL: its token is the secret.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import ConfigDict, SecretStr, field_validator

from logvigil.core.net import is_loopback
from notify.base import ChannelConfig

#: The hosts Discord serves webhooks on.
DISCORD_HOSTS = frozenset(
    {
        "discord.com",
        "ptb.discord.com",
        "canary.discord.com",
        "discordapp.com",
        "ptb.discordapp.com",
        "canary.discordapp.com",
    }
)
#: `/api[/v<N>]/webhooks/<id>/<token>`: the id is a snowflake (a 64-bit number), the
#: token letters, digits, `-` and `_` (68 of them in the URLs Discord hands out).
_PATH = re.compile(r"/api(?:/v\d{1,2})?/webhooks/\d{1,20}/[A-Za-z0-9_-]{1,200}/?")
SHAPE = "https://discord.com/api/webhooks/<id>/<token>"


def check_webhook_url(value: str) -> str:
    """`value` without surrounding blanks when it is a Discord webhook URL (see the
    module); else ValueError saying what is wrong, without quoting the URL."""
    url = value.strip()
    if not url:
        raise ValueError(f"must not be empty: expected {SHAPE}")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError(f"must not contain spaces or control characters: expected {SHAPE}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"is not a valid URL (a port is 1 to 65535): expected {SHAPE}") from None
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"must be an https:// URL: expected {SHAPE}")
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"must not carry a user name or password: expected {SHAPE}")
    if port == 0:
        raise ValueError(f"is not a valid URL (a port is 1 to 65535): expected {SHAPE}")
    if not is_loopback(host):
        if parts.scheme != "https":
            raise ValueError(
                f"must be https:// (http:// only for a loopback test server): expected {SHAPE}"
            )
        if host not in DISCORD_HOSTS:
            raise ValueError(f"must be a webhook of discord.com, not of {host!r}: expected {SHAPE}")
        if port not in (None, 443):
            raise ValueError(f"must use Discord's port 443, not {port}: expected {SHAPE}")
    if not _PATH.fullmatch(parts.path):
        raise ValueError(
            f"must have the path /api/webhooks/<id>/<token> (<id> digits, <token> letters, "
            f"digits, - and _): expected {SHAPE}"
        )
    if parts.fragment:
        raise ValueError(f"must not end with a #fragment: expected {SHAPE}")
    return url


class DiscordConfig(ChannelConfig):
    """The `notify.discord` section: one webhook (its URL is the secret; better given as
    `LOGVIGIL_DISCORD_WEBHOOK_URL`)."""

    # A validation error printed whole never shows the URL.
    model_config = ConfigDict(hide_input_in_errors=True)

    webhook_url: SecretStr

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _a_discord_webhook(cls, v: Any) -> Any:
        if isinstance(v, SecretStr):
            return SecretStr(check_webhook_url(v.get_secret_value()))
        if isinstance(v, str):
            return check_webhook_url(v)
        return v  # not a string: pydantic refuses it as such
