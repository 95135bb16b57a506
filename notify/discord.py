"""Discord webhook transport: one HTTP POST per message, with the standard library.

Why not `discord-webhook`: version 1.4.1 has no timeout by default, raises
`JSONDecodeError` on Discord's 204 and `AttributeError` on a 429 followed by a
500, and retries 429 without a cap. What we need is small: a POST with
`?wait=true` (so Discord answers with the message and its id), JSON or
multipart/form-data with the report attached, a timeout on every call, and our
own mapping of answers to `NotifyError`. Retries are the outbox's job.

Answers: 2xx delivered (the message id is the receipt); 429 transient with
Discord's `retry_after`; 5xx and network failures transient; 401, 403, 404
permanent (token revoked or webhook deleted); other 4xx permanent (the payload
is wrong and would be refused again). The webhook URL is a secret: it appears
in no message, log record or exception raised from here.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from notify.base import Committing, Notification, NotifyError, no_commit, scrub
from notify.discord_render import DiscordMessage, render

log = logging.getLogger(__name__)

#: Seconds for connecting and for each read of the answer.
TIMEOUT_SECONDS = 10.0
#: A 429's `retry_after` is honoured up to this many seconds (the outbox waits it).
MAX_RETRY_AFTER_SECONDS = 300.0
#: Permanent answers: the webhook's token is wrong or the webhook was deleted.
PERMANENT_STATUSES = frozenset({401, 403, 404})


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int | None
    path: str


def _target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise NotifyError("the Discord webhook URL is not a valid URL", permanent=True) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise NotifyError(
            "the Discord webhook URL must start with https:// (got another scheme)",
            permanent=True,
        )
    query = dict(parse_qsl(parts.query))
    query["wait"] = "true"
    return _Target(parts.scheme, parts.hostname, port, f"{parts.path}?{urlencode(query)}")


def _multipart(payload: dict, attachment: tuple[str, bytes]) -> tuple[bytes, str]:
    boundary = f"logvigil-{uuid.uuid4().hex}"
    name, data = attachment
    safe_name = name.replace('"', "").replace("\r", "").replace("\n", "")
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="payload_json"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            json.dumps(payload).encode(),
            f"\r\n--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="files[0]"; filename="{safe_name}"\r\n'.encode(),
            b"Content-Type: text/markdown; charset=utf-8\r\n\r\n",
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, f"multipart/form-data; boundary={boundary}"


class DiscordNotifier:
    """Posts to one Discord webhook. Build it with `from_config(DiscordConfig)`."""

    name = "discord"

    def __init__(self, webhook_url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._url = webhook_url
        self.timeout = timeout

    @classmethod
    def from_config(cls, cfg) -> DiscordNotifier:
        return cls(cfg.webhook_url.get_secret_value())

    def __repr__(self) -> str:  # never the URL
        return "DiscordNotifier(webhook_url=***)"

    def _error(self, message: str, **kw) -> NotifyError:
        return NotifyError(scrub(message, [self._url]), **kw)

    def send(self, notification: Notification, committing: Committing = no_commit) -> str | None:
        """Post `notification`; returns Discord's message id. Raises NotifyError."""
        return self.post(render(notification), committing)

    def post(self, message: DiscordMessage, committing: Committing = no_commit) -> str | None:
        target = _target(self._url)
        if message.attachment is None:
            body = json.dumps(message.payload).encode()
            ctype = "application/json"
        else:
            body, ctype = _multipart(message.payload, message.attachment)
        conn_cls = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        kwargs = {"context": ssl.create_default_context()} if target.scheme == "https" else {}
        conn = conn_cls(target.host, target.port, timeout=self.timeout, **kwargs)
        try:
            try:
                conn.connect()
            except (OSError, http.client.HTTPException) as exc:
                raise self._error(f"cannot connect to Discord: {_describe(exc)}") from None
            committing()
            try:
                conn.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={
                        "Content-Type": ctype,
                        "User-Agent": "LogVigil (https://github.com/logvigil, 0.1)",
                    },
                )
            except (OSError, http.client.HTTPException) as exc:
                # The request did not leave whole: Discord cannot have acted on it.
                raise self._error(f"sending to Discord failed: {_describe(exc)}") from None
            try:
                resp = conn.getresponse()
                status = resp.status
                raw = resp.read(1024 * 1024)
                headers = resp.headers
            except (OSError, http.client.HTTPException) as exc:
                raise self._error(
                    f"Discord did not answer after receiving the message: {_describe(exc)}",
                    in_doubt=True,
                ) from None
        finally:
            conn.close()
        return self._answer(status, raw, headers)

    def _answer(self, status: int, raw: bytes, headers) -> str | None:
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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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


def _retry_after(raw: bytes, headers) -> float:
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
