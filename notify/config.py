"""Config of what gets sent where: routes, quiet hours, rate limits, the digest.

To be mounted into `detector.config.NotifyConfig` as four fields (see
docs/notifications.md):

    routes: list[RouteConfig] = []
    quiet_hours: dict[str, QuietHoursConfig] = {}
    rate_limit: dict[str, RateLimitConfig] = {}
    digest: DigestConfig = DigestConfig()

`NotifyPolicy.of(notify_config)` reads them (with defaults while they are not
mounted). Channel names are the keys of `notify.NOTIFIERS`: console, discord, email.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

ChannelName = Literal["console", "discord", "email"]
SeverityName = Literal[
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class RouteConfig(_Strict):
    """Incidents matching every given condition go to `channels`; the first match wins.

    `service` and `host` are exact names or shell-style globs matched against
    any of the incident's services / hosts; `min_severity` is inclusive.
    """

    service: str | None = None
    host: str | None = None
    min_severity: SeverityName = "warning"
    channels: Annotated[list[ChannelName], Field(min_length=1)]


class QuietHoursConfig(_Strict):
    """During `start`..`end` (local time of `timezone`; may span midnight) a channel only
    gets incidents of `bypass_severity` or worse; the rest are folded into the digest."""

    start: time
    end: time
    timezone: str = "UTC"
    bypass_severity: SeverityName = "critical"

    _parse = field_validator("start", "end", mode="before")(_parse_hhmm)
    _zone = field_validator("timezone")(_check_zone)


class RateLimitConfig(_Strict):
    """At most `max_messages` per-incident messages per `per_minutes` on a channel; the
    excess is folded into the digest."""

    max_messages: Annotated[int, Field(gt=0)] = 10
    per_minutes: Annotated[int, Field(gt=0)] = 60


class DigestConfig(_Strict):
    """One fleet-wide message a day at `at` (local time of `timezone`); none on a clean day."""

    enabled: bool = True
    at: time = time(9, 30)
    timezone: str = "UTC"
    channels: list[ChannelName] | None = Field(
        default=None, description="default: every configured channel"
    )

    _parse = field_validator("at", mode="before")(_parse_hhmm)
    _zone = field_validator("timezone")(_check_zone)


class NotifyPolicy(_Strict):
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
