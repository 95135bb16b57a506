"""Which channels a `notify:` section turns on, and their notifiers."""

from __future__ import annotations

from notify.base import ChannelConfig, Notifier
from notify.config import NotifyConfig
from notify.registry import DEFAULT_CHANNEL, NOTIFIERS, ChannelName


def _configured(config: NotifyConfig) -> list[tuple[ChannelName, ChannelConfig]]:
    """Each configured channel and its config, in registry order; when there is none,
    the default channel with its config (the console's `console_file` applies)."""
    out: list[tuple[ChannelName, ChannelConfig]] = []
    for name in NOTIFIERS:
        channel = config.channel_config(name)
        if channel is not None and channel.enabled:
            out.append((name, channel))
    if out:
        return out
    default = config.channel_config(DEFAULT_CHANNEL)
    return [(DEFAULT_CHANNEL, default or NOTIFIERS[DEFAULT_CHANNEL].config_model())]


def configured_channels(config: NotifyConfig) -> list[ChannelName]:
    """The configured channels in registry order; the console when no other is."""
    return [name for name, _ in _configured(config)]


def build_notifiers(config: NotifyConfig) -> dict[str, Notifier]:
    """The notifier of every configured channel (see `configured_channels`)."""
    return {name: NOTIFIERS[name].from_config(channel) for name, channel in _configured(config)}
