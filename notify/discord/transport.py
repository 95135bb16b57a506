"""The HTTP side of the Discord notifier: `discord-webhook` and `requests`, and what
their failures mean. Imported when a message is posted, not with the notifier (the
libraries cost ~0.2 s, which every command would pay at start-up).

`post` sends exactly the rendered payload (the library's own `json` would also
send every other attribute it holds, our timeout included) with its files (the
report, the chart) as Discord's `files[0]`, `files[1]`, through
`DiscordWebhook.api_post_request` (never its `execute()`), and returns the answer's
status, body and headers. A failure raises `PostFailed`, which says whether the
request certainly never left.
urllib3's records that quote a request path (the webhook's token) are scrubbed.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from discord_webhook import DiscordWebhook
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError as Urllib3SSLError

from notify.base import describe_error, scrub
from notify.discord.render import DiscordMessage

#: Content type of the attached report.
#: Loggers of urllib3 that quote a request's path (the webhook's token) in their records.
URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")


@dataclass(frozen=True, slots=True)
class Answer:
    """Discord's answer to a post."""

    status: int
    body: bytes
    headers: Mapping[str, str]


class PostFailed(Exception):
    """No answer: `never_left` when the request certainly never left (no connection
    could be made), `invalid_url` when the URL was refused before connecting;
    `reason` is a short description that never quotes the URL."""

    def __init__(self, reason: str, *, never_left: bool, invalid_url: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.never_left = never_left
        self.invalid_url = invalid_url


class _ScrubWebhookPaths(logging.Filter):
    """Replaces the path of every webhook a notifier posted to by `***` in a record.

    urllib3 logs each request's path at DEBUG and a retried URL at WARNING; the
    path of a webhook URL holds its token.
    """

    def __init__(self) -> None:
        super().__init__()
        #: Replaced whole, never mutated: `filter` runs in whichever thread logs.
        self.secrets: frozenset[str] = frozenset()

    def add(self, url: str, path: str) -> None:
        """Scrub `path` from now on; the whole `url` when the path is too short to be
        a secret (a Discord webhook's path is id and token)."""
        secret = path if len(path) >= 16 else url
        if secret not in self.secrets:
            self.secrets = self.secrets | {secret}

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        if any(s in message for s in secrets):
            record.msg, record.args = scrub(message, secrets), None
        return True


_SCRUB = _ScrubWebhookPaths()
for _name in URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_SCRUB)


class _Webhook(DiscordWebhook):
    """A `DiscordWebhook` that posts exactly `message.payload` (see the module's docstring),
    with its files as Discord's `files[N]`. `wait` is on the URL already."""

    def __init__(self, url: str, message: DiscordMessage, timeout: float) -> None:
        files = {f"files[{i}]": f for i, f in enumerate(message.files)}
        super().__init__(url, files=files, timeout=timeout, wait=False, rate_limit_retry=False)
        self._payload = message.payload

    @property
    def json(self) -> dict:
        return self._payload


def post(url: str, path: str, secret_url: str, message: DiscordMessage, timeout: float) -> Answer:
    """POST `message` to `url` (already with `?wait=true`); `path` and `secret_url` are
    scrubbed from urllib3's logs. Raises PostFailed, and nothing else."""
    _SCRUB.add(secret_url, path)
    try:
        response = _Webhook(url, message, timeout).api_post_request()
    except requests.exceptions.InvalidURL:  # refused before connecting (e.g. the host)
        raise PostFailed("invalid URL", never_left=True, invalid_url=True) from None
    except Exception as exc:  # requests, urllib3 or the library: never let one escape
        raise PostFailed(_describe(exc), never_left=_never_left(exc)) from None
    return Answer(response.status_code, response.content, response.headers)


def _never_left(exc: Exception) -> bool:
    """True when the request failed before any of it left: no connection could be made.

    A refused or timed-out connection, a proxy that could not be reached and a
    certificate refused in the TLS handshake are certain to have sent nothing
    (requests wraps them in a `MaxRetryError` whose `reason` says which). Every
    other failure, including other TLS errors, may have come after the request left.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or not exc.args:
        return False
    inner = exc.args[0]
    if not isinstance(inner, MaxRetryError):
        return False
    reason = inner.reason
    if isinstance(reason, NewConnectionError | ConnectTimeoutError):
        return True
    return isinstance(reason, Urllib3SSLError) and any(
        isinstance(a, ssl.SSLCertVerificationError) for a in reason.args
    )


def _describe(exc: BaseException) -> str:
    """The innermost error under the wrappers of requests and urllib3, in a few words.

    The wrappers quote the request path (the webhook's token): only the socket's or
    TLS's own error is described, and a wrapper by its type alone.
    """
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MaxRetryError) and exc.reason is not None:
            exc = exc.reason
            continue
        inner = [a for a in exc.args if isinstance(a, BaseException)]
        if inner:
            exc = inner[-1]
        elif exc.__cause__ is not None:
            exc = exc.__cause__
    if isinstance(exc, requests.exceptions.RequestException | Urllib3Error):
        return type(exc).__name__
    return describe_error(exc)
