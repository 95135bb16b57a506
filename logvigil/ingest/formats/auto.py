"""Format detection from the first lines of an input.

Each non-empty line of the sample votes for the format it looks like; a line
that starts with `{` but is not valid JSON (a pipe joined mid-line, a
corrupt first record), a line over the read limit (only its head was read), a
binary line and blank lines do not vote. An input with no vote is `raw`; its
over-long `{` lines are rejected by `read_events`, never read as raw. The most votes win; a tie
goes to the more specific format (journal > jsonl > journalctl > syslog > raw),
so one garbage line before one good line does not turn an input into `raw`.

A line that both a syslog file and journalctl's `-o short` write (`Nov 30
08:36:03 host sshd[612]: ...`, no `<PRI>`) votes for journalctl when another line
of the sample is journalctl's own (a marker line, a short-full, short-precise,
short-iso or short-unix stamp) and no line is syslog's own (a `<PRI>`, RFC 5424), else for syslog.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator

from logvigil.ingest.formats import cfdr
from logvigil.ingest.formats._common import LINE_LIMIT, LongLine, binary_reason
from logvigil.ingest.formats.journalctl import FULL, UNIX, is_marker
from logvigil.ingest.formats.syslog import RFC3164, RFC5424

#: Non-empty lines looked at by `read_events` before it decides.
SAMPLE_LINES = 10
#: Lines buffered at most while looking for SAMPLE_LINES non-empty ones.
MAX_SAMPLE_LINES = 1000
#: Bytes buffered at most: sampling stops after the line that reaches it, so the
#: sample holds less than twice the read limit however long the lines are.
MAX_SAMPLE_BYTES = LINE_LIMIT
#: read_events decides early once one structured format has this many votes
#: and no other format has any.
EARLY_VOTES = 3

_PREFERENCE = {"journal": 4, "jsonl": 3, "journalctl": 2, "syslog": 1, "raw": 0}
#: The vote of a line both syslog and journalctl's short output write (see the module doc).
_SHORT = "short"
_ISO_SHAPE = re.compile(r".{19}(?P<frac>\.\d+)?(?P<offset>[+-]\d\d(?P<colon>:)?\d\d)?")
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
    if type(line) is LongLine:  # its head only: nothing to parse
        return None
    line = line.strip()
    if not line or binary_reason(line.replace(b"\x00", b"")) is not None:
        return None
    if line.startswith(b"{"):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, dict):
            return None
        return "journal" if any(k in value for k in _JOURNAL_KEYS) else "jsonl"
    if line.startswith(b"-- "):
        return "journalctl" if is_marker(line) else "raw"
    text = line[:1024].decode("utf-8", "replace")
    if RFC5424.match(text):
        return "syslog"
    m = RFC3164.match(text)
    if m is not None:
        iso = m.group("iso")
        if m.group("wday") is not None:  # OpenWrt's logread: ctime, then facility.level
            return "syslog" if _tagged(m.group("rest")) else "raw"
        if m.group("pri") is not None or m.group("year") is not None:
            return "syslog" if iso is None or _tagged(m.group("rest")) else "raw"
        if iso is None:  # journalctl's short-precise has exactly 6 fractional digits
            frac = m.group("frac")
            return "journalctl" if frac is not None and len(frac) == 6 else _SHORT
        if not _tagged(m.group("rest")):
            return "raw"
        # journalctl's short-iso has an offset and no fraction (`+0100` before v254, then
        # `+01:00`); its short-iso-precise is rsyslog's RSYSLOG_FileFormat exactly.
        shape = _ISO_SHAPE.fullmatch(iso)
        if shape is None or shape.group("offset") is None:
            return "syslog"
        return _SHORT if shape.group("frac") and shape.group("colon") else "journalctl"
    m = FULL.match(text) or UNIX.match(text)
    if m is not None and _tagged(m.group("rest")):
        return "journalctl"
    if cfdr.split(text) is not None:  # the supercomputer logs' prefix: the syslog reader's
        return "syslog"
    return "raw"


def _tagged(rest: str) -> bool:
    """Whether what follows a timestamp is `host tag[pid]: `, the host no level word."""
    found = _ISO_REST.match(rest)
    return found is not None and found.group("host").lower() not in _LEVEL_WORDS


def _decide(votes: Counter[str]) -> str:
    votes = Counter(votes)
    short = votes.pop(_SHORT, 0)
    if short:
        votes["journalctl" if votes["journalctl"] and not votes["syslog"] else "syslog"] += short
    votes = +votes
    if not votes:
        return "raw"
    return max(votes, key=lambda fmt: (votes[fmt], _PREFERENCE[fmt]))


def detect_format(sample: list[bytes]) -> str:
    """Return the format name ("journal", "jsonl", "journalctl", "syslog" or "raw") of an input
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

    Reads at most MAX_SAMPLE_LINES lines and MAX_SAMPLE_BYTES bytes (and the
    line that reaches it); stops early when the answer is clear so that a slow
    pipe starts flowing after a few lines.
    """
    pending: list[bytes] = []
    votes: Counter[str] = Counter()
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line)
        kind = classify(line)
        if kind is not None:
            votes[kind] += 1
            total = sum(votes.values())
            if total >= SAMPLE_LINES:
                break
            if kind != "raw" and votes[kind] >= EARLY_VOTES and votes[kind] == total:
                break
        if len(pending) >= MAX_SAMPLE_LINES or size >= MAX_SAMPLE_BYTES:
            break
    return _decide(votes), pending
