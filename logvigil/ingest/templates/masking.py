"""Replace the variable parts of one token with `<*>`.

The miner splits a message on whitespace and masks each token on its own, so
one token's answer can be cached and reused for every later line that holds
the same token: most tokens of a log are words that repeat, and a cache hit
is one dict lookup. Only a token not seen before pays for the regular
expression, which is a single compiled alternation applied with `re.sub`.

What is masked, inside a token, where a variable starts and ends at a
boundary (not a letter or digit on either side):

- UUIDs, MAC addresses, IPv6 and IPv4 addresses (with an optional `:port`),
- dates and times (`2026-03-04`, `2026-03-04T10:00:00.123Z`, `10:00:01,978`),
- hexadecimal: `0x1f`, and hex ids of 8 or more characters with a digit,
- numbers, signed or decimal or dotted (`-12`, `0.25`, `1.2.3`), with an
  optional unit (`12ms`, `3.5GB`, `100%`, `64bit`),
- the value of `key=value` (`user=alice` -> `user=<*>`),
- the inside of a quoted id, a quoted word holding a digit (`'job_42'`),
- the variable tail of an absolute path: the leading directories without
  digits are kept, up to two of them (`/var/lib/docker/x` -> `/var/lib/<*>`).

A packet logged by the kernel's netfilter LOG target (iptables `-j LOG`,
nftables `log`, ufw) is one event per rule whatever the packet: see
`netfilter_tokens`.

A digit glued to letters is not a variable (`jk2_init()`, `log4j`, `ipv6`,
`x86_64` keeps `x86`): it is far more often part of a name. A variable that
a mask misses is still found later by the miner, which generalises the
positions where messages of one template differ.
"""

from __future__ import annotations

import re
import unicodedata

#: What a variable is replaced with; also the wildcard token of a template.
WILDCARD = "<*>"

_HEX = r"[0-9A-Fa-f]"
_L = r"(?<![0-9A-Za-z])"  # left boundary: no letter or digit before
_R = r"(?![0-9A-Za-z])"  # right boundary: no letter or digit after

# Ordered alternation: at a given position the first alternative that matches
# wins, so the specific shapes come before the general number.
# Shapes that start at a boundary; tried only where the boundary holds, which
# is what keeps a miss cheap. Ordered: at one position the first alternative
# that matches wins, so the specific shapes come before the general number.
_AT_BOUNDARY = (
    # UUID
    rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}{_R}",
    # MAC address
    rf"{_HEX}{{2}}(?:[:-]{_HEX}{{2}}){{5}}{_R}",
    # IPv4 with an optional port
    rf"\d{{1,3}}(?:\.\d{{1,3}}){{3}}(?::\d{{1,5}})?{_R}",
    # ISO date, optionally with a time and a zone
    rf"\d{{4}}-\d{{2}}-\d{{2}}(?:[T_]\d{{2}}:\d{{2}}(?::\d{{2}})?(?:[.,]\d+)?)?"
    rf"(?:Z|[+-]\d{{2}}:?\d{{2}})?{_R}",
    # time of day, optional fraction and zone
    rf"\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:[.,]\d+)?(?:Z|[+-]\d{{2}}:?\d{{2}})?{_R}",
    # IPv6, full or compressed: two colons or more and a digit
    rf"(?=[0-9A-Fa-f:]*\d)(?:{_HEX}{{0,4}}:){{2,7}}{_HEX}{{0,4}}{_R}",
    # common log format date: 05/Dec/2016:10:00:00
    rf"\d{{1,2}}/[A-Z][a-z]{{2}}/\d{{4}}(?::\d{{2}}:\d{{2}}:\d{{2}})?{_R}",
    # day/month/year
    rf"\d{{1,4}}[/.]\d{{1,2}}[/.]\d{{2,4}}{_R}",
    # 0x-prefixed hex
    rf"0[xX]{_HEX}+{_R}",
    # hex id of 7 or more characters with a digit (sha, container id)
    rf"(?=[A-Fa-f]*\d){_HEX}{{7,}}{_R}",
    # random token, base64 or alphanumeric, 20+ characters with 2+ digits
    r"(?<![/+])(?=(?:[A-Za-z+/]*\d){2})[A-Za-z0-9+/]{20,}={0,2}(?![0-9A-Za-z/+=])",
    # number, decimal or dotted, with an optional unit
    rf"[-+]?\d+(?:[.,]\d+)*(?:%|[A-Za-z]{{1,5}})?{_R}",
)
_VARIABLE = re.compile(
    # key=value: the value, up to a closing bracket, quote or separator.
    r"(?<==)[^\s,;)\]}>\"'&|=]+"
    # quoted id: the inside of '...' or "..." when it holds a digit.
    r"|(?<=[\"'])[^\s\"']*\d[^\s\"']*(?=[\"'])"
    # bracketed IPv6 with an optional port: [2001:db8::1]:443
    rf"|\[(?=[0-9A-Fa-f:]*\d)(?:{_HEX}{{0,4}}:){{2,7}}{_HEX}{{0,4}}\](?::\d{{1,5}})?"
    rf"|{_L}(?=[-+0-9A-Za-z])(?:{'|'.join(_AT_BOUNDARY)})"
)

# An absolute path of at least two components, alone or after a `(`, `[`, `'`
# or `"`. The directories kept are those before the first one with a digit,
# at most two; the rest becomes a wildcard.
_PATH = re.compile(r"^([(\[\"']?)(/[^\s/\"'()\[\],;:]*){2,}")


def mask_path(token: str) -> str:
    """Return `token` with the variable tail of a leading absolute path masked.

    A path of at most two digit-free components (`/etc/passwd`) is returned
    unchanged; it names a fixed place.
    """
    m = _PATH.match(token)
    if m is None:
        return token
    opener = m.group(1)
    path = m.group(0)[len(opener) :]
    parts = path.split("/")[1:]
    kept: list[str] = []
    for part in parts[:2]:
        if not part or part == WILDCARD or any(c.isdigit() for c in part):
            break
        kept.append(part)
    if len(kept) == len(parts):
        return token
    prefix = "".join("/" + p for p in kept)
    return opener + prefix + "/" + WILDCARD + token[m.end() :]


def mask_token(token: str) -> str:
    """Return `token` with every variable part replaced by `<*>`.

    Never raises; a token that holds no variable is returned as is.
    """
    masked = _VARIABLE.sub(WILDCARD, token)
    if "/" in masked:
        masked = mask_path(masked)
    return masked


# The kernel's packet log (net/netfilter/nf_log_syslog.c; ipt_LOG.c before 5.12):
# printk("%sIN=%s OUT=%s ", prefix, in, out), then PHYSIN=/PHYSOUT= on a bridge,
# MAC= or MACSRC= (input side), then SRC= for IPv4/IPv6 or "ARP " for ARP. The
# prefix is the rule's --log-prefix (at most 29 characters for iptables, 127 for
# nftables), which is where a firewall names its action and chain ("[UFW BLOCK] ").
_NETFILTER = re.compile(
    r"(?P<prefix>[^\n]{0,128}?)IN=\S* OUT=\S* (?=PHYSIN=|PHYSOUT=|MACSRC=|MAC=|SRC=|ARP )"
)
#: What follows the prefix in every netfilter template.
NETFILTER_FIELDS = ("IN=" + WILDCARD, "OUT=" + WILDCARD, WILDCARD)


def netfilter_tokens(message: str, mask: TokenMasker) -> tuple[str, ...] | None:
    """Return the template tokens of a netfilter packet log line, or None if
    `message` is not one.

    The packet's fields vary from line to line in which keys are present, not
    only in values (`DF`, TCP flags `SYN ACK`, `WINDOW=` for TCP but `TYPE= CODE=`
    for ICMP, `LEN=` twice for UDP, `OUT=` empty on input): masking them token by
    token spreads one firewall rule over many templates. The kernel writes the
    rule's log prefix first, so one template per prefix is one per action and
    chain: `[UFW BLOCK] IN=<*> OUT=<*> <*>`. The prefix's own tokens are masked
    as usual (`mask`); a prefix written without a trailing space (`DROP:IN=eth0`)
    is a token of its own (`DROP: IN=<*> ...`), so that it anchors its template.
    """
    m = _NETFILTER.match(message)
    if m is None:
        return None
    return (*(mask[t] for t in m.group("prefix").split()), *NETFILTER_FIELDS)


def is_netfilter(message: str) -> bool:
    """Return whether `message` is a netfilter packet log line (see `netfilter_tokens`)."""
    return _NETFILTER.match(message) is not None


_MONTHS = "January February March April May June July August September October November December"
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
_CALENDAR = frozenset(
    form
    for name in (_MONTHS + " " + _DAYS).split()
    for word in (name, name[:3], name.upper(), name[:3].upper())
    for form in (word, word + ",")
)


def mask_calendar(masked: list[str]) -> list[str]:
    """Mask, in place, month and weekday names that sit next to a masked token.

    `Mon Dec 5 10:00:00` is one date spread over four tokens; the numbers are
    masked token by token and the names only next to them, so the word `May`
    on its own stays a word. Returns `masked`.
    """
    if _CALENDAR.isdisjoint(masked):
        return masked
    for i in range(len(masked) - 1, -1, -1):
        if masked[i] in _CALENDAR and (
            (i + 1 < len(masked) and WILDCARD in masked[i + 1])
            or (i > 0 and WILDCARD in masked[i - 1])
        ):
            masked[i] = WILDCARD + "," if masked[i].endswith(",") else WILDCARD
    return masked


def _printable(token: str) -> str:
    """Return `token` with control characters and lone surrogates made U+FFFD.

    A template is stored and shown; NUL is refused by PostgreSQL and a lone
    surrogate cannot be encoded as UTF-8, so neither may reach a template.
    """
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cs") else c for c in token)


class TokenMasker(dict[str, str]):
    """A bounded cache from raw token to masked token.

    `masker[token]` returns the masked token, computing it on a miss. When
    the cache holds `capacity` tokens it is emptied, which bounds memory on
    a stream of unique values at the cost of re-masking the common words once.
    A token longer than `max_length` characters is a blob (base64, a JSON
    object without spaces) and becomes `<*>` without being cached; so does a
    number (ASCII digits only).
    """

    __slots__ = ("capacity", "max_length")

    def __init__(self, capacity: int, max_length: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.max_length = max_length

    def __missing__(self, token: str) -> str:
        if len(token) > self.max_length:
            return WILDCARD
        if token.isdigit() and token.isascii():
            # A number, what `mask_token` makes `<*>`: the commonest variable, and mostly
            # a new one, so not cached (it would empty the cache of the words sooner).
            return WILDCARD
        masked = mask_token(token if token.isprintable() else _printable(token))
        if len(self) >= self.capacity:
            self.clear()
        self[token] = masked
        return masked
