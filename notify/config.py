"""The `notify:` section: the channels and what gets sent where (routes, quiet hours,
rate limits, the digest); see docs/notifications.md.

`NotifyPolicy` holds the policy fields `notify.policy` decides on. `NotifyConfig`
is the whole section: the policy plus the config of every notifier in
`notify.registry.NOTIFIERS` (`notify.discord`, `notify.email`, and the console's
`console` / `console_file`), each owned by its notifier.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, create_model, field_validator

from logvigil.core.configbase import Strict
from notify.base import ChannelConfig
from notify.registry import NOTIFIERS, ChannelName

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
    """At most `max_messages` (up to 10,000) per-incident messages per `per_minutes` (up to
    a week) on a channel; the excess is folded into the digest."""

    max_messages: Annotated[int, Field(gt=0, le=10_000)] = 10
    per_minutes: Annotated[int, Field(gt=0, le=7 * 24 * 60)] = 60


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


class NotifyPolicy(Strict):
    """Everything `notify.policy` decides on, in one value (a `NotifyConfig` is one)."""

    routes: list[RouteConfig] = Field(default_factory=list)
    quiet_hours: dict[ChannelName, QuietHoursConfig] = Field(default_factory=dict)
    rate_limit: dict[ChannelName, RateLimitConfig] = Field(default_factory=dict)
    digest: DigestConfig = Field(default_factory=DigestConfig)


def channel_fields() -> dict[str, Any]:
    """The keys every registered notifier adds to `notify:`: `<channel>: <its config> |
    None` (absent: not configured), or the fields of a flat config (`console`,
    `console_file`)."""
    fields: dict[str, Any] = {}
    for name, notifier in NOTIFIERS.items():
        model = notifier.config_model
        if model.flat:
            fields.update({key: (f.annotation, f) for key, f in model.model_fields.items()})
        else:
            fields[name] = (model | None, None)
    return fields


#: The channels' part of the `notify:` section, built from the registry.
NotifyChannels = create_model(  # type: ignore[call-overload]
    "NotifyChannels",
    __base__=Strict,
    __doc__="The config of every registered notifier.",
    **channel_fields(),
)


class NotifyConfig(NotifyPolicy, NotifyChannels):  # type: ignore[misc, valid-type]
    """The `notify:` section: every notifier's config, then the delivery policy.

    Pydantic takes the fields of the last base first, so config errors list the
    channels' keys before the policy's, as they always did.
    """

    # A validation error printed whole never shows a value (a webhook URL is a secret).
    model_config = ConfigDict(hide_input_in_errors=True)

    def channel_config(self, name: ChannelName) -> ChannelConfig | None:
        """Channel `name`'s config: None when its section is absent; a flat config is
        always there (see its `enabled`)."""
        model = NOTIFIERS[name].config_model
        values = dict(self)
        if model.flat:
            return model.model_validate({key: values[key] for key in model.model_fields})
        return values[name]
