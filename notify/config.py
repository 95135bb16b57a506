"""The `notify:` section: the channels (console, Discord, e-mail) and what gets sent
where (routes, quiet hours, rate limits, the digest); see docs/notifications.md.

`NotifyPolicy` holds the policy fields `notify.policy` decides on; `NotifyConfig` is
the whole section. Channel names are the keys of `notify.NOTIFIERS`.
"""

from __future__ import annotations

import os
import ssl
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator

from logvigil.core.configbase import Strict

ChannelName = Literal["console", "discord", "email"]
#: A severity in a route: its lower-case name.
SeverityLabel = Literal[
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
]


def _check_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {v!r} (use an IANA name such as Europe/Berlin)"
        ) from None
    return v


def _parse_hhmm(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        # YAML 1.1 reads an unquoted 09:30 as the sexagesimal integer 570.
        return time(v // 60, v % 60) if 0 <= v < 24 * 60 else v
    if isinstance(v, str):
        try:
            hh, mm = v.strip().split(":")
            return time(int(hh), int(mm))
        except ValueError:
            raise ValueError(f"expected a time of day as HH:MM, got: {v!r}") from None
    return v


class RouteConfig(Strict):
    """Incidents matching every given condition go to `channels`; the first match wins.

    `service` and `host` are exact names or shell-style globs matched against
    any of the incident's services / hosts; `min_severity` is inclusive.
    """

    service: str | None = None
    host: str | None = None
    min_severity: SeverityLabel = "warning"
    channels: Annotated[list[ChannelName], Field(min_length=1)]


class QuietHoursConfig(Strict):
    """During `start`..`end` (local time of `timezone`; may span midnight) a channel only
    gets incidents of `bypass_severity` or worse; the rest are folded into the digest."""

    start: time
    end: time
    timezone: str = "UTC"
    bypass_severity: SeverityLabel = "critical"

    _parse = field_validator("start", "end", mode="before")(_parse_hhmm)
    _zone = field_validator("timezone")(_check_zone)


class RateLimitConfig(Strict):
    """At most `max_messages` per-incident messages per `per_minutes` on a channel; the
    excess is folded into the digest."""

    max_messages: Annotated[int, Field(gt=0)] = 10
    per_minutes: Annotated[int, Field(gt=0)] = 60


class DigestConfig(Strict):
    """One fleet-wide message a day at `at` (local time of `timezone`); none on a clean day."""

    enabled: bool = True
    at: time = time(9, 30)
    timezone: str = "UTC"
    channels: list[ChannelName] | None = Field(
        default=None, description="default: every configured channel"
    )

    _parse = field_validator("at", mode="before")(_parse_hhmm)
    _zone = field_validator("timezone")(_check_zone)


class CAFileError(ValueError):
    """`ca_file` cannot be used; the message names the file (absolute path) and why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"the CA file {os.path.abspath(path)} {reason}")


def tls_client_context(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and host name.

    It trusts the CAs of the PEM bundle `ca_file` instead of the system's store
    (as `ssl.create_default_context(cafile=...)` does), or the system's store
    without one. Raises CAFileError when the file is missing, unreadable or
    holds no PEM certificate.
    """
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=os.fspath(ca_file))
    except FileNotFoundError:
        raise CAFileError(ca_file, "does not exist") from None
    except ssl.SSLError as exc:
        what = (
            "no -----BEGIN CERTIFICATE----- block"
            if exc.reason == "NO_CERTIFICATE_OR_CRL_FOUND"
            else "a certificate block that cannot be parsed"
        )
        raise CAFileError(ca_file, f"is not a PEM bundle of CA certificates ({what})") from None
    except OSError as exc:
        raise CAFileError(ca_file, f"cannot be read: {exc.strerror or exc}") from None


class EmailConfig(Strict):
    """The `notify.email` section: one SMTP server, a sender and its recipients.

    The server's certificate is always verified (STARTTLS and TLS); nothing
    turns that off. `ca_file` is a PEM bundle of the CAs to trust instead of
    the system's store, for a mail server with a certificate of an internal CA.
    It is read when the config is loaded (a missing or invalid file is a config
    error) and again for each delivery.
    """

    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password: SecretStr | None = None
    sender: str = Field(alias="from")
    to: Annotated[list[str], Field(min_length=1)]
    ca_file: Path | None = Field(
        default=None,
        description="PEM bundle of the CAs that sign the server's certificate; "
        "default: the system's store",
    )

    @field_validator("ca_file")
    @classmethod
    def _readable_pem(cls, v: Path | None) -> Path | None:
        if v is not None:
            # CAFileError is a ValueError: pydantic reports it at notify.email.ca_file.
            # Its message names the whole absolute path (the `got:` of a config error is cut).
            tls_client_context(v)
        return v


class NotifyPolicy(Strict):
    """Everything `notify.policy` decides on, in one value."""

    routes: list[RouteConfig] = Field(default_factory=list)
    quiet_hours: dict[ChannelName, QuietHoursConfig] = Field(default_factory=dict)
    rate_limit: dict[ChannelName, RateLimitConfig] = Field(default_factory=dict)
    digest: DigestConfig = Field(default_factory=DigestConfig)

    @classmethod
    def of(cls, notify_config: Any) -> NotifyPolicy:
        """The policy fields of `NotifyConfig` (defaults for any not mounted yet)."""
        if isinstance(notify_config, NotifyPolicy):
            return notify_config
        values = {
            name: getattr(notify_config, name)
            for name in ("routes", "quiet_hours", "rate_limit", "digest")
            if getattr(notify_config, name, None) is not None
        }
        return cls.model_validate(_plain(values))


def _plain(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


class DiscordConfig(Strict):
    """The `notify.discord` section: one webhook (its URL is the secret)."""

    webhook_url: SecretStr


class NotifyConfig(Strict):
    """Channels (console, Discord, email) and the delivery policy (see docs/notifications.md)."""

    console: bool = True
    console_file: Path | None = None
    discord: DiscordConfig | None = None
    email: EmailConfig | None = None
    routes: list[RouteConfig] = Field(default_factory=list)
    quiet_hours: dict[ChannelName, QuietHoursConfig] = Field(default_factory=dict)
    rate_limit: dict[ChannelName, RateLimitConfig] = Field(default_factory=dict)
    digest: DigestConfig = Field(default_factory=DigestConfig)
