"""Format detection from the first lines of an input.

Each non-empty line of the sample votes for the format it looks like; a line
that starts with `{` but is not valid JSON (a pipe joined mid-line, a
corrupt first record) and blank lines do not vote. The most votes win; a tie
goes to the more specific format (journal > jsonl > syslog > raw), so one
garbage line before one good line does not turn an input into `raw`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator

from logvigil.ingest.formats.syslog import RFC3164, RFC5424

#: Non-empty lines looked at by `read_events` before it decides.
SAMPLE_LINES = 10
#: Lines buffered at most while looking for SAMPLE_LINES non-empty ones.
MAX_SAMPLE_LINES = 1000
#: read_events decides early once one structured format has this many votes
#: and no other format has any.
EARLY_VOTES = 3

_PREFERENCE = {"journal": 3, "jsonl": 2, "syslog": 1, "raw": 0}
_JOURNAL_KEYS = ("__REALTIME_TIMESTAMP", "__CURSOR", "MESSAGE")
# The rsyslog file format: "<RFC 3339 ts> host tag[pid]: msg". Application logs
# that start with a timestamp ("2026-03-04T10:00:00Z INFO main: ...") must not
# match, hence the explicit tag and the level-word check on the host.
_ISO_REST = re.compile(r"(?P<host>[\w.:-]+) [^\s\[\]:]+(?:\[[^\]\s]*\])?: ")
_LEVEL_WORDS = frozenset(
    [
        "trace",
        "debug",
        "info",
        "notice",
        "warn",
        "warning",
        "err",
        "error",
        "crit",
        "critical",
        "fatal",
    ]
)


def classify(line: bytes) -> str | None:
    """Return the format one line looks like, or None if it should not vote."""
    line = line.strip()
    if not line:
        return None
    if line.startswith(b"{"):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, dict):
            return None
        return "journal" if any(k in value for k in _JOURNAL_KEYS) else "jsonl"
    text = line[:1024].decode("utf-8", "replace")
    if RFC5424.match(text):
        return "syslog"
    m = RFC3164.match(text)
    if m is not None:
        if m.group("iso") is None:
            return "syslog"
        rest = _ISO_REST.match(m.group("rest"))
        if rest is not None and rest.group("host").lower() not in _LEVEL_WORDS:
            return "syslog"
    return "raw"


def _decide(votes: Counter[str]) -> str:
    if not votes:
        return "raw"
    return max(votes, key=lambda fmt: (votes[fmt], _PREFERENCE[fmt]))


def detect_format(sample: list[bytes]) -> str:
    """Return the format name ("journal", "jsonl", "syslog" or "raw") of an input
    from its first lines; "raw" when nothing in the sample says otherwise."""
    votes: Counter[str] = Counter()
    for line in sample:
        kind = classify(line)
        if kind is not None:
            votes[kind] += 1
            if sum(votes.values()) >= SAMPLE_LINES:
                break
    return _decide(votes)


def sniff(lines: Iterator[bytes]) -> tuple[str, list[bytes]]:
    """Read the first lines of `lines` and return (format, lines read so far).

    Reads at most MAX_SAMPLE_LINES lines; stops early when the answer is clear
    so that a slow pipe starts flowing after a few lines.
    """
    pending: list[bytes] = []
    votes: Counter[str] = Counter()
    for line in lines:
        pending.append(line)
        kind = classify(line)
        if kind is not None:
            votes[kind] += 1
            total = sum(votes.values())
            if total >= SAMPLE_LINES:
                break
            if kind != "raw" and votes[kind] >= EARLY_VOTES and votes[kind] == total:
                break
        if len(pending) >= MAX_SAMPLE_LINES:
            break
    return _decide(votes), pending
