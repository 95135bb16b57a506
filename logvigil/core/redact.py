"""Make a log line safe to store in a bundle and show to a model: secrets out, printable, short.

Redaction runs before truncation, so a secret cut in half is still caught.
It targets credentials, not addresses: IPs and host names are evidence.
"""

from __future__ import annotations

import re

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
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[\t\r\n]+")


def redact(text: str, *, emails: bool = False) -> str:
    """`text` with credentials replaced by `<redacted>` (and e-mail addresses, if asked)."""
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    if emails:
        text = _EMAIL.sub("<email>", text)
    return text


def printable(text: str) -> str:
    """Drop ANSI escapes and control characters; tabs and newlines become one space."""
    return _CONTROL.sub("", _SPACE.sub(" ", _ANSI.sub("", text)))


def clean_line(text: str, max_chars: int, *, emails: bool = False) -> str:
    """Redacted, printable, and at most `max_chars` characters (cut lines end with `…`)."""
    text = printable(redact(text, emails=emails))
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"
