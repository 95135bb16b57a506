"""Secrets out of text: one module for every place LogVigil stores or shows text.

- `redact`: secrets inside a log line (or any text): webhook URLs, whose secret is
  their path (Discord, Slack, Microsoft Teams, and any `/hooks/` or `/webhooks/` URL:
  Mattermost, Rocket.Chat, Gitea, ...); `user:secret@` in URLs; `password=` and
  other key=value credentials; `Authorization` headers and bearer tokens; API tokens
  of well-known shapes (GitHub, GitLab, Slack, AWS, Google, Stripe, OpenAI and
  Anthropic, SendGrid, npm, Telegram bots); JSON web tokens; PEM and PGP private key
  blocks; e-mail addresses on request;
- `clean_line`: a redacted, printable, one-line, bounded quote of a log line;
- `hide_url_password`: a configured URL (database, graph server) with its password
  hidden, fit for a message;
- `display_url`: a URL shortened for display, without user info, query or fragment.

Redaction runs before truncation, so a secret cut in half is still caught.
It targets credentials, not addresses: IPs and host names are evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from logvigil.core.memo import remembered
from logvigil.core.text import single_line, truncate
from logvigil.core.words import Words

REDACTED = "<redacted>"

_KEYS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|token|access[_-]?token|"
    r"refresh[_-]?token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|session[_-]?id|"
    r"auth[_-]?token|credentials?"
)
#: A replacement: a template (`\1<redacted>`) or a function of the match.
_Repl = str | Callable[[re.Match[str]], str]
# What a secret in a URL's path or query may hold: up to a space, quote or bracket.
_URL_REST = r"[^\s\"'<>()\[\]{}|\\^`]"

#: What ends a URL on its left: whitespace, quotes, brackets.
_URL_START = frozenset(" \t\r\n\"'<>()[]{}|\\^`")


def _hook(m: re.Match[str]) -> str:
    """A hook segment and its secret: redacted in a URL (`scheme://` before it in the same
    word) or as a path of its own (`POST /hooks/...`), kept in a file's path."""
    text, start = m.string, m.start()
    i = start
    while i > 0 and text[i - 1] not in _URL_START:
        i -= 1
    head = text[i:start]
    if head and "://" not in head:
        return m.group()
    return m.group(1) + REDACTED


#: Webhook URLs: the secret is the path after the service's hook segment.
_WEBHOOKS: tuple[tuple[re.Pattern[str], _Repl], ...] = (
    # Slack: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
    # (also /workflows/... and /triggers/...): the host says it is a hook.
    (
        re.compile(rf"(?i)\b(https?://hooks\.slack\.com/[a-z]+/){_URL_REST}+"),
        r"\1" + REDACTED,
    ),
    # Microsoft Teams / Power Automate:
    # https://contoso.webhook.office.com/webhookb2/<guid>@<guid>/IncomingWebhook/<hex>/<guid>
    # Discord: https://discord.com/api/webhooks/<id>/<token> (discordapp.com, ptb., canary.,
    # /api/v10/webhooks/), and every other /hooks/ or /webhooks/ URL: Mattermost
    # https://chat.example/hooks/<key>, Rocket.Chat /hooks/<id>/<token>, Zapier
    # /hooks/catch/<id>/<key>/. In a full URL, or as the path of an HTTP request line
    # (`"POST /hooks/xxx HTTP/1.1"` in an access log); not in a file's path (`_hook`).
    (
        re.compile(rf"(?i)(/(?:api/(?:v\d+/)?)?(?:webhooks?|hooks|webhookb2)/){_URL_REST}{{8,}}"),
        _hook,
    ),
)
_RULES: tuple[tuple[re.Pattern[str], _Repl], ...] = (
    *_WEBHOOKS,
    # Authorization: Basic dXNlcjpwYXNz / Proxy-Authorization: Bearer abc
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|.*)"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # password=hunter2, "token": "abc", api_key: abc, PGPASSWORD='x y'; not a path, which
    # says where a secret is kept (sshd: "Could not load host key: /etc/ssh/ssh_host_...")
    (
        re.compile(
            rf"(?i)((?<![A-Za-z0-9_-])[A-Za-z0-9_-]*(?:{_KEYS})[\"']?\s*[:=]\s*)(?!{REDACTED}|/)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)"
        ),
        r"\1" + REDACTED,
    ),
    # scheme://user:secret@host, and scheme://:secret@host (Redis' password-only form)
    (
        re.compile(r"(?i)((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"),
        r"\1" + REDACTED + "@",
    ),
    # API tokens whose prefix says what they are (each vendor's documented format):
    (
        re.compile(
            r"\b(?:"
            r"gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub personal, OAuth, app, refresh tokens
            r"|github_pat_[A-Za-z0-9_]{22,}"  # GitHub fine-grained personal access token
            r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab personal access token
            r"|xox[abposre]-[A-Za-z0-9-]{10,}"  # Slack bot, user, app, refresh tokens
            r"|xapp-\d-[A-Za-z0-9-]{10,}"  # Slack app-level token
            r"|(?:AKIA|ASIA)[A-Z0-9]{16}"  # AWS access key ID
            r"|AIza[A-Za-z0-9_-]{35}"  # Google API key
            r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe secret / restricted key
            r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}"  # OpenAI, Anthropic API keys
            r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"  # SendGrid API key
            r"|npm_[A-Za-z0-9]{36}"  # npm access token
            r")(?![A-Za-z0-9_-])"
        ),
        REDACTED,
    ),
    # Telegram bot token `<bot id>:<35 characters>`, alone or in its Bot API URL
    # (https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe)
    (re.compile(r"\b(bot)?\d{6,12}:[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])"), r"\1" + REDACTED),
    # JSON web tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), REDACTED),
    # PEM private keys (PKCS#1 `RSA`, `EC`, PKCS#8, `ENCRYPTED`, `OPENSSH`) and PGP
    # secret keys, to their end or, cut off or split over lines, to the end of the text
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)",
            re.S,
        ),
        REDACTED,
    ),
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")


_TOKEN_PREFIX = re.compile(
    r"gh[pousr]_|github_pat_|glpat-|xox|xapp-|AKIA|ASIA|AIza|[sr]k_(?:live|test)_|sk-|SG\.|npm_"
)
#: What a Telegram bot token's rule needs: 30 token characters after a colon. The rule's
#: digit before the colon is left out on purpose: a pattern that starts with a literal
#: lets `re` jump from colon to colon, where `\d:` tries every position (a UFW line's
#: `MAC=` and IPv6 addresses hold dozens of colons: 7x slower).
_BOT_TOKEN = re.compile(r":[A-Za-z0-9_-]{30}")
_KEY_VALUE = re.compile(rf"(?:{_KEYS})[\"']?\s*[:=]")  # the rule's key and separator

#: For each rule of `_RULES`, in order, a quick test of (text, lower-cased text) that
#: holds for every text the rule matches: a rule runs only where its test holds.
_HINTS: tuple[Callable[[str, str], bool], ...] = (
    lambda text, low: "hooks.slack.com" in low,
    lambda text, low: "hook" in low,
    lambda text, low: "authorization" in low,
    lambda text, low: "bearer" in low or "basic" in low or "token" in low,
    lambda text, low: _KEY_VALUE.search(low) is not None,
    lambda text, low: "://" in text and "@" in text,
    lambda text, low: _TOKEN_PREFIX.search(text) is not None,
    lambda text, low: _BOT_TOKEN.search(text) is not None,
    lambda text, low: "eyJ" in text,
    lambda text, low: "-----BEGIN" in text,
)
assert len(_HINTS) == len(_RULES)
#: Words of which every rule's match holds one (lower case), besides the key-value
#: rule's keys and the bot token's shape (tagged True), and a word that every key of the
#: key-value rule (`_KEYS`) holds (False), at most `_KEY_LEAD` characters into the key
#: (`refresh_token`, `private_key`): that rule's test looks only from there. Most log
#: lines hold none; all are searched for in one pass (`Words`): a substring search each
#: cost more than the rest of the test.
_HINT_WORDS = Words(
    dict.fromkeys(("pass", "pwd", "secret", "key", "session", "credential"), False)
    | dict.fromkeys(
        (
            "hook", "authorization", "bearer", "basic", "token", "://", "eyj", "xox", "akia",
            "asia", "aiza", "sg.", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
            "k_live_", "k_test_", "npm_", "glpat-", "xapp-", "sk-", "-----begin",
        ),
        True,
    )
)  # fmt: skip
_KEY_LEAD = 8


def might_hold_secret(text: str) -> bool:
    """False when no redaction rule can match `text` (a quick test, no false negative)."""
    return _might_hold(text, text.lower())


def _might_hold(text: str, low: str) -> bool:
    key_at = -1
    for start, any_match in _HINT_WORDS.occurrences(low):
        if any_match:
            return True
        if key_at < 0 or start < key_at:
            key_at = start
    # A key word is common in logs ("Failed password", "publickey", "session opened"):
    # the key-value rule needs a key followed by ":" or "=", which its own test checks.
    if key_at >= 0 and _KEY_VALUE.search(low, max(0, key_at - _KEY_LEAD)) is not None:
        return True
    return _BOT_TOKEN.search(text) is not None


def redact(text: str, *, emails: bool = False) -> str:
    """`text` with secrets replaced by `<redacted>` (and e-mail addresses, if asked)."""
    low = text.lower()
    if not emails and not _might_hold(text, low):
        return text
    for (pattern, repl), hint in zip(_RULES, _HINTS, strict=True):
        if hint(text, low):
            text = pattern.sub(repl, text)
    if emails:
        text = _EMAIL.sub("<email>", text)
    return text


#: A field of a structured record (a JSON line's other keys, kept as the event's
#: attributes) named for a credential: `password`, `db_password`, `api_key`,
#: `client_secret`, `auth_token`. Its value is the secret whole, whatever its shape,
#: unless it is a path, which says where one is kept.
_SECRET_FIELD = re.compile(rf"(?i)[A-Za-z0-9_.-]*(?:{_KEYS})")
#: Whether each field name seen is a credential's (a log's records repeat their names;
#: emptied when full, so a stream of made-up names cannot grow it).
_SECRET_NAMES: dict[str, bool] = {}
_SECRET_NAMES_MAX = 4096
#: The shortest text a rule of `redact` changes (`pwd=x`): a shorter value (a program's
#: name) holds no secret inside it, nor does one of digits only (a process id).
_SHORTEST_SECRET = 5


def _names_secret(name: str) -> bool:
    return remembered(_SECRET_NAMES, name, _SECRET_FIELD.fullmatch, _SECRET_NAMES_MAX)


def redact_fields(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """`fields` (an event's attributes) with their secrets redacted, or None when none
    holds one: a text or number under a credential's name whole (`"password": "hunter2"`),
    and the secrets inside other text values as `redact` finds them. The text values are
    tested together first (their quick tests cannot miss a secret when joined by line
    breaks): most records hold none."""
    changed: dict[str, Any] = {}
    names: list[str] = []  # of the text values to search, `texts`
    texts: list[str] = []
    for name, value in fields.items():
        kind = type(value)
        if kind is str:
            if not value:
                continue
            if _names_secret(name) and value != REDACTED and value[0] != "/":
                changed[name] = REDACTED
            elif len(value) >= _SHORTEST_SECRET and not value.isdigit():
                names.append(name)
                texts.append(value)
        elif (kind is int or kind is float) and _names_secret(name):  # `"pin": 1234`
            changed[name] = REDACTED
    if texts and might_hold_secret("\n".join(texts)):
        for name, value in zip(names, texts, strict=True):
            if (cleaned := redact(value)) != value:
                changed[name] = cleaned
    return {**fields, **changed} if changed else None


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
