"""Opening a log input (a file path or `-` for stdin) and splitting it into bounded lines."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from logvigil.core.events import MAX_LINE_BYTES

#: Bytes read of one line at most; the rest of a longer line is skipped. Larger than
#: MAX_LINE_BYTES so a JSON object with a long message still parses and is then truncated.
READ_LIMIT = 16 * MAX_LINE_BYTES


class InputError(Exception):
    """The input cannot be opened; the message names it."""


@dataclass
class Input:
    name: str
    stream: BinaryIO
    size: int | None  # bytes, when known (regular files)

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()


def open_input(path: str | Path) -> Input:
    """Open `path` for binary reading; `-` is standard input. Raises InputError."""
    if str(path) == "-":
        return Input("-", sys.stdin.buffer, None)
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p}: is a directory, not a log file")
        stream = p.open("rb")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot open: {exc.strerror}") from None
    try:
        size = os.fstat(stream.fileno()).st_size
    except OSError:
        size = None
    return Input(str(p), stream, size)


def iter_lines(stream: BinaryIO, limit: int = READ_LIMIT) -> Iterator[bytes]:
    """Yield lines (with their newline) of at most `limit` bytes, in constant memory.

    A longer line yields its first `limit` bytes and the rest is discarded up
    to the next newline, so a file without newlines cannot exhaust memory.
    """
    readline = stream.readline
    while True:
        line = readline(limit)
        if not line:
            return
        if len(line) == limit and not line.endswith(b"\n"):
            while True:  # skip the remainder of an over-long line
                rest = readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line
