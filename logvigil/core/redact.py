"""Secrets out of text: one module for every place LogVigil stores or shows text.

- `redact`: credentials inside a log line (`password=`, bearer tokens, `user:secret@`
  in URLs, JSON web tokens, PEM private keys; e-mail addresses on request);
- `redact_secrets`: the same plus webhook URLs, whose secret is their path (for our
  own logs, which may quote a configured Discord or Slack URL);
- `clean_line`: a redacted, printable, one-line, bounded quote of a log line;
- `hide_url_password`: a configured URL (database, graph server) with its password
  hidden, fit for a message;
- `display_url`: a URL shortened for display, without user info, query or fragment.

Redaction runs before truncation, so a secret cut in half is still caught.
It targets credentials, not addresses: IPs and host names are evidence.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from logvigil.core.text import single_line, truncate

REDACTED = "<redacted>"

_KEYS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|token|access[_-]?token|"
    r"refresh[_-]?token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|session[_-]?id|"
    r"auth[_-]?token|credentials?"
)
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Basic dXNlcjpwYXNz / Proxy-Authorization: Bearer abc
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|.*)"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # password=hunter2, "token": "abc", api_key: abc, PGPASSWORD='x y'
    (
        re.compile(
            rf"(?i)([A-Za-z0-9_-]*(?:{_KEYS})[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)"
        ),
        r"\1" + REDACTED,
    ),
    # scheme://user:secret@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
    # JSON web tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), REDACTED),
    # PEM private keys
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        REDACTED,
    ),
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")

#: Discord (and Slack) webhook URLs carry their secret in the path, not in `user:pass@`.
_WEBHOOK = re.compile(
    r"(?i)\b(https?://(?:[a-z0-9-]+\.)*(?:discord(?:app)?\.com|hooks\.slack\.com)"
    r"/(?:api/(?:v\d+/)?webhooks|services)/)[^\s\"'<>]+"
)


def redact(text: str, *, emails: bool = False) -> str:
    """`text` with credentials replaced by `<redacted>` (and e-mail addresses, if asked)."""
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    if emails:
        text = _EMAIL.sub("<email>", text)
    return text


def redact_secrets(text: str) -> str:
    """`text` with webhook URLs, URL passwords, key=value secrets and bearer tokens hidden."""
    return redact(_WEBHOOK.sub(r"\1" + REDACTED, text))


def clean_line(text: str, max_chars: int, *, emails: bool = False) -> str:
    """Redacted, printable, and at most `max_chars` characters (cut lines end with `…`)."""
    return truncate(single_line(redact(text, emails=emails)), max_chars)


def hide_url_password(url: str) -> str:
    """`url` with its password (if any) shown as `***`: `redis://user:***@db:6379/0`."""
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    netloc = f"{parts.username}:***@{netloc}" if parts.username else f"***@{netloc}"
    if port:
        netloc += f":{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def display_url(url: str) -> str:
    """`url` without user info, query and fragment: what a status line or a name shows."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
