"""Discord webhook transport: one POST per message through `discord-webhook`, our policy around it.

The library (1.4.1) builds and sends the request: JSON, or multipart/form-data
with the report attached (`DiscordWebhook.api_post_request`). We never call its
`execute()`, which raises `JSONDecodeError` on a 204 (a delivered message) and
on a 5xx answered in HTML, `AttributeError` on a 429 followed by a 500, and
retries a 429 by itself without a cap: retries are the outbox's job
(`rate_limit_retry=False`). What we add:

- the URL is checked first and posted with `?wait=true`, so Discord answers 200
  with the message, whose id is the receipt (a 204 is a delivery too);
- an explicit timeout for connecting and for each read of the answer;
- exactly the payload `render` built, within Discord's limits (the library's own
  `json` would also send every other attribute it holds, our timeout included);
- answers as `NotifyError`: 429 transient with Discord's `retry_after`; 5xx and
  a connection that could not be made transient; 401, 403, 404 permanent (token
  revoked or webhook deleted); any other 4xx permanent (the payload is wrong and
  would be refused again); a failure once the request may have left (no answer,
  a timeout, a dropped connection) in doubt, never resent;
- the webhook URL is a secret: it appears in no message or exception raised
  from here, and urllib3's records quoting the request path are scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notify.base import (
    Committing,
    Notification,
    NotifyError,
    no_commit,
    scrub,
)
from notify.discord.config import DiscordConfig
from notify.discord.render import DiscordMessage, render

#: Seconds for connecting and for each read of the answer.
TIMEOUT_SECONDS = 10.0
#: A 429's `retry_after` is honoured up to this many seconds (the outbox waits it).
MAX_RETRY_AFTER_SECONDS = 300.0
#: Permanent answers: the webhook's token is wrong or the webhook was deleted.
PERMANENT_STATUSES = frozenset({401, 403, 404})
_INVALID_URL = "the Discord webhook URL is not a valid URL"


def _webhook_url(url: str) -> tuple[str, str]:
    """`url` with `wait=true` in its query, and its path. Raises NotifyError (permanent)
    for a URL that is not http(s) with a host; the message never quotes the URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise NotifyError(_INVALID_URL, permanent=True) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise NotifyError(
            "the Discord webhook URL must start with https:// (got another scheme)",
            permanent=True,
        )
    query = dict(parse_qsl(parts.query))
    query["wait"] = "true"
    return urlunsplit(parts._replace(query=urlencode(query), fragment="")), parts.path


class DiscordNotifier:
    """Posts to one Discord webhook. Build it with `from_config(DiscordConfig)`."""

    name = "discord"
    config_model: ClassVar[type[DiscordConfig]] = DiscordConfig

    def __init__(self, webhook_url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._url = webhook_url
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: DiscordConfig) -> DiscordNotifier:
        return cls(config.webhook_url.get_secret_value())

    def __repr__(self) -> str:  # never the URL
        return "DiscordNotifier(webhook_url=***)"

    def _error(self, message: str, **kw) -> NotifyError:
        return NotifyError(scrub(message, [self._url]), **kw)

    def send(self, notification: Notification, committing: Committing = no_commit) -> str | None:
        """Post `notification`; returns Discord's message id (None on a 204).
        Raises NotifyError, and nothing else."""
        return self.post(render(notification), committing)

    def post(self, message: DiscordMessage, committing: Committing = no_commit) -> str | None:
        """Post a rendered message; see `send`."""
        # deferred: requests and discord-webhook are heavy (~0.2 s), needed only to post
        from notify.discord import transport

        url, path = _webhook_url(self._url)
        committing()
        try:
            answer = transport.post(url, path, self._url, message, self.timeout)
        except transport.PostFailed as failed:
            if failed.invalid_url:
                raise NotifyError(_INVALID_URL, permanent=True) from None
            if failed.never_left:
                raise self._error(f"cannot connect to Discord: {failed.reason}") from None
            raise self._error(
                "no answer from Discord after the message left (it may have been "
                f"delivered): {failed.reason}",
                in_doubt=True,
            ) from None
        return self._answer(answer.status, answer.body, answer.headers)

    def _answer(self, status: int, raw: bytes, headers: Mapping[str, str]) -> str | None:
        """The receipt of a 2xx answer; raises NotifyError for any other."""
        if 200 <= status < 300:
            if status == 204 or not raw:
                return None
            try:
                return str(json.loads(raw).get("id") or "") or None
            except (ValueError, AttributeError):
                return None
        detail = _detail(raw)
        if status == 429:
            retry_after = _retry_after(raw, headers)
            raise self._error(
                f"Discord rate limit (429): retry after {retry_after:.1f} s",
                retry_after=retry_after,
            )
        if status >= 500:
            raise self._error(f"Discord answered {status} {detail}".rstrip())
        if status in PERMANENT_STATUSES:
            what = "webhook deleted or unknown" if status == 404 else "webhook token refused"
            raise self._error(
                f"Discord answered {status} ({what}) {detail}".rstrip(), permanent=True
            )
        raise self._error(
            f"Discord refused the message: {status} {detail}".rstrip(), permanent=True
        )


def _detail(raw: bytes) -> str:
    """Discord's error `message` (and code), short; never the request."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(obj, dict):
        return ""
    msg = str(obj.get("message", ""))[:200]
    code = obj.get("code")
    return f"({msg}, code {code})" if code is not None else f"({msg})" if msg else ""


def _retry_after(raw: bytes, headers: Mapping[str, str]) -> float:
    """Seconds Discord asked us to wait: `retry_after` of the body, else the headers',
    else 1; at most MAX_RETRY_AFTER_SECONDS."""
    value: float | None = None
    try:
        obj = json.loads(raw)
        if isinstance(obj, dict) and obj.get("retry_after") is not None:
            value = float(obj["retry_after"])
    except (ValueError, TypeError):
        value = None
    if value is None:
        for name in ("Retry-After", "X-RateLimit-Reset-After"):
            try:
                value = float(headers.get(name))
                break
            except (TypeError, ValueError):
                continue
    if value is None or value != value or value < 0:
        value = 1.0
    return min(value, MAX_RETRY_AFTER_SECONDS)
