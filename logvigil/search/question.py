"""An operator's question, parsed for `ask`: its time range, the hosts and services it
names, what it counts, and the words left to search templates with. Pure.

    parse_question("how many errors did nginx log yesterday, by hour?", now, zone,
                   hosts={"web-01", ...}, services={"nginx", ...})
    -> Question(range=yesterday, hosts=(), services=("nginx",), count="errors",
                by="hour", words="how many errors did log by hour", unknown=())

- **Names**: a word (letters and digits, joined by `-`, `_` or `.`) that is a known
  host or service, case aside; nothing is guessed from a part of a name. A word close
  to a name (`ngnix`, `db01`) that is none, and is not a word of a question's
  grammar (`QUESTION_WORDS`), is `unknown` with its closest names, for "did you mean".
- **Counting**: "how many", "count", "number of" make it a count; what is counted is
  `errors` (error, errors, failures, failed), `warnings`, or `lines` otherwise; "by
  hour" / "per hour" / "hourly" (or day) says how to break it down.
- **Time**: `logvigil.search.timephrase.find_range`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from logvigil.search.senses import STOPWORDS
from logvigil.search.timephrase import TimeRange, find_range

#: Words of a question's grammar, never taken for a misspelt name.
QUESTION_WORDS = STOPWORDS | frozenset(
    "how many much count number log logs logged happened happen went going go wrong "
    "show tell list any anything something errors error warnings warning lines line "
    "failures failed fail per by hour hours hourly day days daily last night yesterday "
    "today since between and from to on week morning evening afternoon tonight past "
    "minute minutes why down up crash crashed restart restarted reboot rebooted "
    "incident incidents problem problems issue issues service services host hosts".split()
)
#: How close a word must be to a name to be offered as "did you mean" (difflib ratio).
CLOSE = 0.75

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9]")
_COUNT = re.compile(r"\b(how many|how much|count|number of|total)\b")
_BY = re.compile(r"\b(?:by|per|each)\s+(hour|day)\b|\b(hourly|daily)\b")


@dataclass(frozen=True, slots=True)
class Unknown:
    """A word that looks like a name but is none, and the names it is closest to."""

    word: str
    closest: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    range: TimeRange | None
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    count: str | None  # "errors", "warnings", "lines" or None (not a count)
    by: str | None  # "hour", "day" or None
    words: str  # the question without its time phrase and names: what to search
    unknown: tuple[Unknown, ...] = ()


def _counted(q: str) -> str | None:
    if not _COUNT.search(q):
        return None
    if re.search(r"\b(errors?|failures?|failed|fails?)\b", q):
        return "errors"
    if re.search(r"\bwarnings?\b", q):
        return "warnings"
    return "lines"


def parse_question(
    text: str,
    now: datetime,
    zone: tzinfo,
    *,
    hosts: Iterable[str] = (),
    services: Iterable[str] = (),
) -> Question:
    """`text` parsed against the store's `hosts` and `services` (see the module's doc)."""
    q = " ".join(text.split())
    lowered = q.lower()
    when = find_range(q, now, zone)
    rest = lowered.replace(when.phrase, " ") if when is not None else lowered
    by_host = {h.lower(): h for h in hosts}
    by_service = {s.lower(): s for s in services}
    found_hosts: list[str] = []
    found_services: list[str] = []
    unknown: list[Unknown] = []
    kept: list[str] = []
    names = sorted(set(by_host) | set(by_service))
    for token in _TOKEN.findall(rest):
        word = token.lower().rstrip(".")
        if word in by_host:
            found_hosts.append(by_host[word])
        elif word in by_service:
            found_services.append(by_service[word])
        else:
            kept.append(word)
            if word not in QUESTION_WORDS and len(word) >= 3 and not word.isdigit():
                close = difflib.get_close_matches(word, names, n=3, cutoff=CLOSE)
                if close:
                    unknown.append(
                        Unknown(token, tuple(by_host.get(c) or by_service[c] for c in close))
                    )
    by = _BY.search(rest)
    return Question(
        text=q,
        range=when,
        hosts=tuple(dict.fromkeys(found_hosts)),
        services=tuple(dict.fromkeys(found_services)),
        count=_counted(rest),
        by=None
        if by is None
        else {"hourly": "hour", "daily": "day"}.get(by.group(2) or "", by.group(1) or ""),
        words=" ".join(kept),
        unknown=tuple(unknown),
    )
