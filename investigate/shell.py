"""Shell commands suggested to a human: built from arguments, each quoted, or not at all.

A report suggests commands an on-call engineer may paste into a root shell
(`systemctl status postgresql@15-main.service`). The names in them (a unit, a
host, a process) come from log lines, which anyone who can reach a service can
write: a service named ``x;reboot;`id` `` or a host named `db-02; rm -rf ~`
must never turn into a command that runs the attacker's text. So:

- a command is a sequence of words; every word is quoted with `shlex.quote`,
  and the only operator is the pipe, `PIPE`, written by this module, never
  taken from text (`sh`);
- a name is checked before it goes into a command: `unit_name` (systemd's unit
  names, systemd.unit(5): `[A-Za-z0-9:_.\\-]`, one `@` before the instance, a
  known suffix, at most 255 characters), `host_name` (RFC 1123: dot-separated
  labels of letters, digits and inner hyphens, 63 characters each, 253 in all,
  or an IP address) and `process_name` (a kernel `comm`: 1 to 15 bytes,
  TASK_COMM_LEN is 16 with its NUL, no control character). A name that fails
  cannot be a real one: the action is written without a command;
- no name may start with `-`: an argument that starts with a dash is read as
  an option (`ssh -oProxyCommand=...`), so even systemd's own `-.mount` is
  refused here;
- `is_built_command` tells whether a string is exactly what `sh` builds from
  some words (the report renders only such strings as commands).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from functools import lru_cache


class Op(str):
    """An operator written by this module (never text from the logs)."""

    __slots__ = ()


#: The one operator a suggested command uses.
PIPE = Op("|")

#: The suffixes of systemd unit types (systemd.unit(5)).
UNIT_SUFFIXES = (
    "service",
    "socket",
    "device",
    "mount",
    "automount",
    "swap",
    "target",
    "path",
    "timer",
    "slice",
    "scope",
)
#: systemd's UNIT_NAME_MAX (256) less the terminating NUL.
UNIT_NAME_MAX = 255
#: The kernel's TASK_COMM_LEN (16) less the terminating NUL.
COMM_MAX_BYTES = 15
HOST_NAME_MAX = 253

_UNIT_CHARS = r"[A-Za-z0-9:_.\\-]"
_UNIT = re.compile(
    rf"{_UNIT_CHARS}+(?:@{_UNIT_CHARS}*)?\.(?:{'|'.join(UNIT_SUFFIXES)})",
)
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def unit_name(name: str | None) -> str | None:
    """`name` when it can be a systemd unit name, else None."""
    if not name or len(name) > UNIT_NAME_MAX or name.startswith("-"):
        return None
    return name if _UNIT.fullmatch(name) else None


def host_name(name: str | None) -> str | None:
    """`name` when it can be a host name (RFC 1123) or an IP address, else None."""
    if not name or name.startswith("-"):
        return None
    try:
        ipaddress.ip_address(name)
        return name
    except ValueError:
        pass
    bare = name[:-1] if name.endswith(".") else name
    if not bare or len(bare) > HOST_NAME_MAX:
        return None
    return name if all(_LABEL.fullmatch(label) for label in bare.split(".")) else None


def process_name(name: str | None) -> str | None:
    """`name` when it can be a process's `comm` (what the OOM killer names), else None."""
    if not name or name.startswith("-") or _CONTROL.search(name):
        return None
    return name if len(name.encode("utf-8", "surrogatepass")) <= COMM_MAX_BYTES else None


def sh(*words: str) -> str:
    """A command line: each word quoted with `shlex.quote`, `Op`s (`PIPE`) written as is."""
    if not words:
        raise ValueError("a command needs at least one word")
    return " ".join(w if isinstance(w, Op) else shlex.quote(w) for w in words)


@lru_cache(maxsize=1024)
def is_built_command(text: str) -> bool:
    """True when `text` is exactly what `sh` builds from some words: every word quoted
    as `shlex.quote` quotes it, single spaces between, the only unquoted operator a pipe
    between two words.

    Remembered per text (it depends on nothing else): every investigation of an incident
    renders its report again, with mostly the same commands, and lexing them is most of
    the rendering."""
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars="|")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:  # an unclosed quote
        return False
    pos, last_was_pipe = 0, True
    for i, token in enumerate(tokens):
        if i:
            if not text.startswith(" ", pos):
                return False
            pos += 1
        # The lexer gives "|" for the operator and for the quoted word '|' alike.
        is_pipe = token == "|" and text.startswith("|", pos)
        written = "|" if is_pipe else shlex.quote(token)
        if not text.startswith(written, pos) or (is_pipe and last_was_pipe):
            return False
        pos += len(written)
        last_was_pipe = is_pipe
    return bool(tokens) and not last_was_pipe and pos == len(text)
