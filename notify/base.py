"""The notifier interface: `Notification` in, `send()` out, `NotifyError` on failure.

A notifier is one module or folder: its config model (a `ChannelConfig`) and a
transport class built from it (`NotifierPlugin`: `config_model`, `from_config`,
`name` and `send(notification, committing)`), registered in `notify.registry`.
`send` raises `NotifyError` for every failure (never another exception) and keeps
secrets out of the message. `committing` is called once, just before the request
that could deliver the message starts: the outbox records there that the
delivery is in doubt until the channel answers (see `notify/outbox.py`).
"""

from __future__ import annotations

import socket
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self

from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.timeutil import iso_z, parse_iso


class NotifyError(Exception):
    """A delivery failed.

    `permanent`: retrying cannot help (401, 404, refused recipient); the channel
    is marked broken. `in_doubt`: the request may have left the process but no
    answer came back, so the channel may have delivered it; the outbox does not
    resend it (never twice) and reports it as unconfirmed. A failure that
    certainly sent nothing (a connection that could not be made) is not in doubt.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        in_doubt: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.in_doubt = in_doubt
        #: Seconds the channel asked us to wait (Discord's 429 `retry_after`).
        self.retry_after = retry_after


class NotificationKind(StrEnum):
    OPENED = "opened"
    REPORT = "report"
    RESOLVED = "resolved"
    DIGEST = "digest"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Section:
    """A named block of a message (an embed field, an e-mail paragraph).

    `name` and `value` are plain text, never Markdown: they hold names and lines
    from the logs, which each channel makes inert its own way (Discord escapes
    them, `notify.discord.render`). `code`: the value is shown as code, one span
    per line (log lines, a command).
    """

    name: str
    value: str
    inline: bool = False
    code: bool = False


@dataclass(frozen=True, slots=True)
class Notification:
    """One message, independent of the channel that carries it.

    `title` is one line; `summary` a short paragraph; `sections` the named
    facts (root cause, confidence, blast radius, evidence, replay command): all
    plain text, made inert by each channel. `markdown` is the full report,
    already safe Markdown (`investigate.report_md`), sent as an attachment.
    Everything round-trips through JSON: the outbox stores it as its payload.
    """

    kind: NotificationKind
    title: str
    summary: str = ""
    severity: Severity | None = None
    incident_id: int | None = None
    sections: tuple[Section, ...] = ()
    markdown: str = ""
    created_at: datetime | None = None
    attachment_name: str = "report.md"
    tags: tuple[str, ...] = field(default=())
    #: The incident's chart as PNG (`notify.picture`), shown in the message when set.
    picture: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.title,
            "summary": self.summary,
            "severity": None if self.severity is None else self.severity.label,
            "incident_id": self.incident_id,
            "sections": [[s.name, s.value, s.inline, s.code] for s in self.sections],
            "markdown": self.markdown,
            "created_at": None if self.created_at is None else iso_z(self.created_at),
            "attachment_name": self.attachment_name,
            "tags": list(self.tags),
            "picture_png": None if self.picture is None else b64encode(self.picture).decode(),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Notification:
        sev = obj.get("severity")
        created = obj.get("created_at")
        return cls(
            kind=NotificationKind(obj["kind"]),
            title=obj["title"],
            summary=obj.get("summary", ""),
            severity=None if sev is None else Severity.parse(sev),
            incident_id=obj.get("incident_id"),
            # A message queued before `code` existed has three items per section.
            sections=tuple(
                Section(s[0], s[1], bool(s[2]), bool(s[3]) if len(s) > 3 else False)
                for s in obj.get("sections", [])
            ),
            markdown=obj.get("markdown", ""),
            created_at=None if created is None else parse_iso(created),
            attachment_name=obj.get("attachment_name", "report.md"),
            tags=tuple(obj.get("tags", ())),
            picture=_picture(obj.get("picture_png")),
        )


def _picture(value: Any) -> bytes | None:
    """The stored picture, or None (absent, or not base64: the text goes without it)."""
    if not isinstance(value, str):
        return None
    try:
        return b64decode(value, validate=True)
    except ValueError:
        return None


#: Called by a notifier just before the message can reach the channel.
Committing = Callable[[], None]


def no_commit() -> None:
    """The `committing` hook when nobody records delivery phases (tests, previews)."""


class Notifier(Protocol):
    """A transport. `send` returns a receipt (Discord's message id) or None."""

    name: str

    def send(self, notification: Notification, committing: Committing = no_commit) -> str | None:
        """Deliver `notification`; raises NotifyError (and nothing else) on failure."""
        ...


class ChannelConfig(Strict):
    """A notifier's configuration: the section `notify.<channel>` of the config file.

    The channel is configured when its section is present. A `flat` config is not
    a section: its fields are keys of `notify:` itself (the console's `console:
    true` and `console_file:`), and `enabled` says whether it delivers.
    """

    flat: ClassVar[bool] = False

    @property
    def enabled(self) -> bool:
        """Whether the channel delivers; a present section does."""
        return True


class NotifierPlugin(Notifier, Protocol):
    """What `notify.registry.NOTIFIERS` holds: a notifier class and its config model."""

    config_model: ClassVar[type[ChannelConfig]]

    @classmethod
    def from_config(cls, config: ChannelConfig) -> Self:
        """The notifier of `config` (an instance of `config_model`)."""
        ...


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret (and its URL path, for webhook URLs) replaced by `***`."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        # A webhook URL's token also travels alone (in a path, in an error of urllib).
        if "/" in secret:
            for part in secret.split("/"):
                if len(part) >= 16:
                    text = text.replace(part, "***")
    return text


def describe_error(exc: BaseException) -> str:
    """A network or protocol error in a few words: `timed out`, or `TypeName: message`."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
