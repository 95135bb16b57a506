"""Notifications: Discord, e-mail and console notifiers behind one interface, an outbox
with retries, routing, quiet hours, rate limits, silences and the daily digest.

Layout (see docs/notifications.md):

- `base`: `Notification`, the `Notifier` interface, `NotifyError`, `ChannelConfig`;
- one module or folder per notifier, owning its config, rendering and transport:
  `console`, `discord/` (`config`, `render`, `notifier`), `email/` (`config`,
  `tls`, `render`, `notifier`); `text_render` is the plain text console and
  e-mail share;
- `registry`: `NOTIFIERS` (channel name -> notifier class) and `ChannelName`;
- `config`: the `notify:` section (`NotifyConfig`: every notifier's config and
  the `NotifyPolicy`); `channels`: `configured_channels`, `build_notifiers`;
- `policy` (pure decisions), `messages`, `digest`, `silences`, `outbox` (the
  delivery guarantee) and `service` (what the daemon and the CLI call).
"""

from __future__ import annotations

from notify.base import Notification, NotificationKind, Notifier, NotifyError, Section
from notify.channels import build_notifiers, configured_channels
from notify.config import NotifyConfig, NotifyPolicy
from notify.console import ConsoleConfig, ConsoleNotifier
from notify.discord import DiscordConfig, DiscordNotifier
from notify.email import EmailConfig, EmailNotifier
from notify.registry import NOTIFIERS, ChannelName

__all__ = [
    "NOTIFIERS",
    "ChannelName",
    "ConsoleConfig",
    "ConsoleNotifier",
    "DiscordConfig",
    "DiscordNotifier",
    "EmailConfig",
    "EmailNotifier",
    "Notification",
    "NotificationKind",
    "Notifier",
    "NotifyConfig",
    "NotifyError",
    "NotifyPolicy",
    "Section",
    "build_notifiers",
    "configured_channels",
]
