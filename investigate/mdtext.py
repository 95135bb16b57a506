"""Log text made inert in Markdown (the report, Discord) and in e-mail: pure functions.

Log text is hostile: a line may carry `[Reset your SSO password here](https://evil.example/sso)`,
`**URGENT**`, `||spoiler||`, `# heading`, `> quote`, `<https://...>`, backticks
or `@everyone`. Whatever reaches a reader goes through one of these:

- `code_span` / `code_block`: log text shown verbatim as code (CommonMark:
  the fence is longer than any backtick run inside, so a line holding ```
  cannot close it; a block holds one log line per line);
- `escape_text`: log text inside our prose, on one line: every inline Markdown
  character (`\\ ` * _ [ ] | < ~`) backslash-escaped, a line start that would
  open a heading, a quote, a list, a rule or a setext heading (`# > - + = 1.`)
  escaped, and every URL put in a code span (Markdown renderers and Discord
  link bare URLs; never inside code);
- `discord_code`: a code span for Discord, whose parser is not CommonMark (three
  backticks anywhere start a code block), so backticks inside become `ˋ`
  (U+02CB) and the fence is a single backtick;
- `defang_urls`: for e-mail, where clients turn any URL into a link whatever
  the markup: `https://evil.example/sso` -> `hxxps://evil[.]example/sso`.

Mentions (`@everyone`, `<@123>`) are broken with a zero-width space by all of
them (`logvigil.core.text.disarm_mentions`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from logvigil.core.text import ELLIPSIS, ZWSP, disarm_mentions

#: Characters escaped anywhere in prose (CommonMark and Discord both honour a backslash
#: before them): emphasis, code, links, spoilers, strike-through, angle-bracket forms.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<~])")
#: A line start that opens a heading (Discord's `-#` too), a quote, a list item, a rule or
#: a setext heading: only there do these characters mean anything.
_LEADING = re.compile(r"^([-+=>#])|^(\d{1,9})([.)])")
_BACKTICKS = re.compile(r"`+")
#: A URL (any scheme, or `www.`) up to white space, a backtick or an angle bracket.
URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{0,30}://|www\.)[^\s<>`]+")
#: Line breaks of any kind (CommonMark ends lines at \n and \r; Python and some clients
#: at these too).
_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
#: Stands for a backtick inside a Discord code span.
DISCORD_BACKTICK = "\u02cb"


def one_line(text: str) -> str:
    """`text` with every line break a space, white space runs squeezed."""
    return " ".join(_BREAKS.sub(" ", str(text)).split())


def _escape_prose(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_text(text: str, *, strip: bool = True) -> str:
    """Prose safe for Markdown: one line, special characters escaped, URLs in code spans,
    mentions neutralised. `strip=False` keeps the spaces at both ends (a fragment)."""
    text = one_line(text) if strip else re.sub(r"\s+", " ", _BREAKS.sub(" ", str(text)))
    out: list[str] = []
    last = 0
    for m in URL.finditer(text):
        url = _url_end(m.group(0))
        out.append(_escape_prose(text[last : m.start()]))
        out.append(code_span(url))
        last = m.start() + len(url)
    out.append(_escape_prose(text[last:]))
    escaped = "".join(out)
    if out[0]:  # not a URL's code span first: a list or rule marker is escaped
        escaped = _LEADING.sub(_escape_leading, escaped)
    return disarm_mentions(escaped)


def _url_end(url: str) -> str:
    """`url` without the trailing punctuation GFM leaves out of an autolink (`.,:;!?*_~'"`
    and a `)` that closes nothing inside it: `(https://x.example/a)`)."""
    while url and (
        url[-1] in ".,:;!?*_~'\"" or (url[-1] == ")" and url.count(")") > url.count("("))
    ):
        url = url[:-1]
    return url


def _escape_leading(m: re.Match[str]) -> str:
    if m.group(1):
        return f"\\{m.group(1)}"
    return f"{m.group(2)}\\{m.group(3)}"


def code_span(text: str) -> str:
    """An inline code span that holds `text` whatever backticks it contains."""
    text = disarm_mentions(one_line(text))
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(lines: list[str]) -> str:
    """A fenced block of `lines`; the fence is longer than any backtick run inside."""
    # One log line stays one line: an embedded line break cannot start Markdown of its own.
    body = "\n".join(disarm_mentions(_BREAKS.sub(" ", str(line))) for line in lines)
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def discord_code(text: str) -> str:
    """A Discord code span of one line of `text`: backticks shown as `ˋ`, mentions broken."""
    text = disarm_mentions(one_line(text)).replace("`", DISCORD_BACKTICK)
    return f"`{text or ZWSP}`"


def defang_urls(text: str) -> str:
    """Every URL made unclickable but readable: `https://evil.example/sso` ->
    `hxxps://evil[.]example/sso` (the scheme's `t`s become `x`, the host's dots `[.]`)."""

    def fix(m: re.Match[str]) -> str:
        url = m.group(0)
        scheme, sep, rest = url.partition("://")
        if not sep:  # www.example.org/...
            scheme, rest = "", url
        host, slash, path = rest.partition("/")
        scheme = scheme.replace("t", "x").replace("T", "X")
        return f"{scheme}{sep}{host.replace('.', '[.]')}{slash}{path}"

    return URL.sub(fix, text)


def fit(text: str, limit: int, render: Callable[[str], str]) -> str:
    """`render(text)` when it is at most `limit` characters, else `render` of the longest
    cut of `text` (ending in `…`) that fits, or "" when none does: the cut is made in the
    raw text, never inside an escape or a code span."""
    out = render(text)
    if len(out) <= limit:
        return out
    best, lo, hi = "", 1, min(len(text), limit)
    while lo <= hi:  # the longest kept prefix whose rendering fits
        keep = (lo + hi) // 2
        candidate = render(text[: keep - 1] + ELLIPSIS)
        if len(candidate) <= limit:
            best, lo = candidate, keep + 1
        else:
            hi = keep - 1
    return best
