"""The `notify.discord` section: one webhook, whose URL is the secret."""

from __future__ import annotations

from pydantic import SecretStr

from notify.base import ChannelConfig


class DiscordConfig(ChannelConfig):
    """The `notify.discord` section: one webhook (its URL is the secret; better given as
    `LOGVIGIL_DISCORD_WEBHOOK_URL`)."""

    webhook_url: SecretStr
