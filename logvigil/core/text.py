"""Text from the logs, made fit to store and to show: one implementation per meaning.

- `escape_controls`: what the store keeps of a line (controls written as escapes);
- `single_line`: what a bundle or a report quotes (ANSI and controls dropped, one line);
- `truncate`: a cut that says it cut (`…`);
- `disarm_mentions`: Discord mentions shown but never pinging (a zero-width space);
- `mentions_as_words`: Discord mentions spelt out for a language model's prompt, where
  zero-width characters are stripped because they smuggle text.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
ZWSP = "\u200b"

# C0 and C1 controls except TAB, DEL, line/paragraph separators, bidi overrides
# and isolates (they make a report read differently from what was logged) and
# lone surrogates (which JSON "\ud800" can produce and no database accepts).
_UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_ESCAPES = {"\x00": "", "\n": "\\n", "\r": "\\r"}

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[\t\r\n]+")

_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>", re.IGNORECASE)
_MASS_MENTION = re.compile(r"@(everyone|here)\b", re.I)
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_CHANNEL_MENTION = re.compile(r"<#(\d+)>")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    escaped = _ESCAPES.get(char)
    if escaped is not None:
        return escaped
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """Return `text` safe to store and show: NUL removed, TAB kept, `\\n` and `\\r`
    written as those two characters, other controls as `\\xNN` / `\\uNNNN`."""
    if text.isprintable():
        return text
    return _UNPRINTABLE.sub(_escape, text)


def single_line(text: str) -> str:
    """Drop ANSI escapes and control characters; tabs and newlines become one space."""
    return _CONTROL.sub("", _SPACE.sub(" ", _ANSI.sub("", text)))


def truncate(text: str, max_chars: int) -> str:
    """`text` if it fits, else its first `max_chars - 1` characters and `…`."""
    if max_chars <= 0:
        return ""
    return text if len(text) <= max_chars else text[: max_chars - 1] + ELLIPSIS


def disarm_mentions(text: str) -> str:
    """`@everyone` -> `@\u200beveryone`, `<@123>` -> `<@\u200b123>`: shown, never a ping."""

    def fix(m: re.Match[str]) -> str:
        if m.group(1):
            return f"@{ZWSP}{m.group(1)}"
        return f"<{m.group(2)}{ZWSP}{m.group(3)}>"

    return _MENTION.sub(fix, text)


def mentions_as_words(text: str) -> str:
    """Discord mentions as plain words: `@everyone` → `(at)everyone`, `<@1>` → `(user 1)`."""
    text = _MASS_MENTION.sub(r"(at)\1", text)
    text = _ROLE_MENTION.sub(r"(role \1)", text)
    text = _USER_MENTION.sub(r"(user \1)", text)
    return _CHANNEL_MENTION.sub(r"(channel \1)", text)
