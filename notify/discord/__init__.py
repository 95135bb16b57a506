"""The Discord channel: `config` (the `notify.discord` section), `render` (a
`Notification` as one embed within Discord's limits) and `notifier` (the webhook
transport, through `discord-webhook`, with our timeout, 429 and outbox policy)."""

from __future__ import annotations

from notify.discord.config import DiscordConfig
from notify.discord.notifier import DiscordNotifier

__all__ = ["DiscordConfig", "DiscordNotifier"]
