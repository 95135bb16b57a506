"""Console / file transport: the default when no channel is configured.

Writes a plain-text rendering to standard output or appends it to a file.
It cannot be rate-limited or refuse a message; an unwritable file is a
transient failure (the disk may be freed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar, TextIO

from notify.base import ChannelConfig, Committing, Notification, NotifyError, no_commit
from notify.text_render import render_text


class ConsoleConfig(ChannelConfig):
    """`notify.console` (print, default true) and `notify.console_file` (append there
    instead of printing): two keys of `notify:` itself, not a section of their own."""

    flat: ClassVar[bool] = True

    console: bool = True
    console_file: Path | None = None

    @property
    def enabled(self) -> bool:
        return self.console


class ConsoleNotifier:
    """Prints each message to `stream` (default stdout) or appends it to `path`."""

    name = "console"
    config_model: ClassVar[type[ConsoleConfig]] = ConsoleConfig

    def __init__(self, path: Path | None = None, stream: TextIO | None = None) -> None:
        self.path = path
        self.stream = stream

    @classmethod
    def from_config(cls, config: ConsoleConfig) -> ConsoleNotifier:
        return cls(config.console_file)

    def send(self, notification: Notification, committing: Committing = no_commit) -> str | None:
        """Write `notification`; returns None. Raises NotifyError when the file is unwritable."""
        text = render_text(notification) + "\n"
        committing()
        try:
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(text)
            else:
                stream = self.stream or sys.stdout
                stream.write(text)
                stream.flush()
        except OSError as exc:
            raise NotifyError(f"cannot write the notification: {exc.strerror or exc}") from None
        return None
