"""Notifications: Discord, e-mail and console notifiers behind one interface, an outbox
with retries, routing, quiet hours, rate limits, silences and the daily digest.

`NOTIFIERS` is the registry: channel name -> factory taking that channel's config
section (`NotifyConfig.<name>`). `build_notifiers` makes the configured ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from notify.base import Notification, NotificationKind, Notifier, NotifyError, Section
from notify.console import ConsoleNotifier
from notify.discord import DiscordNotifier
from notify.email import EmailNotifier

#: Channel name -> factory from its config section. Order is the order of delivery.
NOTIFIERS: dict[str, Callable[[Any], Notifier]] = {
    "console": ConsoleNotifier.from_config,
    "discord": DiscordNotifier.from_config,
    "email": EmailNotifier.from_config,
}


def configured_channels(notify_config: Any) -> list[str]:
    """Names of the configured channels; console when nothing else is configured."""
    names = [
        name
        for name in NOTIFIERS
        if name != "console" and getattr(notify_config, name, None) is not None
    ]
    if getattr(notify_config, "console", True) or not names:
        names.insert(0, "console")
    return names


def build_notifiers(
    notify_config: Any, *, console_stream: TextIO | None = None
) -> dict[str, Notifier]:
    """The notifier of every configured channel (see `configured_channels`)."""
    out: dict[str, Notifier] = {}
    for name in configured_channels(notify_config):
        if name == "console":
            path = getattr(notify_config, "console_file", None)
            out[name] = ConsoleNotifier(Path(path) if path else None, console_stream)
        else:
            out[name] = NOTIFIERS[name](getattr(notify_config, name))
    return out


__all__ = [
    "NOTIFIERS",
    "ConsoleNotifier",
    "DiscordNotifier",
    "EmailNotifier",
    "Notification",
    "NotificationKind",
    "Notifier",
    "NotifyError",
    "Section",
    "build_notifiers",
    "configured_channels",
]
