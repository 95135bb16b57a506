"""The notifier registry: channel name -> notifier class, in the order of delivery.

A notifier is one module or folder (its `ChannelConfig` model and its class,
see `notify.base.NotifierPlugin`) plus one line here: its config joins the
`notify:` section (`notify.config.NotifyConfig`) and its name becomes a
`ChannelName` that routes, quiet hours, rate limits and the digest accept.
"""

from __future__ import annotations

from typing import Literal

from notify.base import NotifierPlugin
from notify.console import ConsoleNotifier
from notify.discord import DiscordNotifier
from notify.email import EmailNotifier

NOTIFIERS: dict[str, type[NotifierPlugin]] = {
    "console": ConsoleNotifier,
    "discord": DiscordNotifier,
    "email": EmailNotifier,
}
#: Every channel name, in registry order.
CHANNEL_NAMES: tuple[str, ...] = tuple(NOTIFIERS)
#: A channel in the config (routes, quiet hours, rate limits, digest): one of CHANNEL_NAMES.
ChannelName = Literal[CHANNEL_NAMES]  # type: ignore[valid-type]
#: The channel that delivers when no channel is configured.
DEFAULT_CHANNEL: ChannelName = "console"

__all__ = ["CHANNEL_NAMES", "DEFAULT_CHANNEL", "NOTIFIERS", "ChannelName"]
