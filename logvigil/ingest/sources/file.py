"""Follow a log file across rotation and truncation, with an `inode:offset` cursor."""

from __future__ import annotations

import os
from datetime import tzinfo
from pathlib import Path
from typing import BinaryIO, ClassVar, Literal

from logvigil.ingest.formats import FormatName, LongLine
from logvigil.ingest.inputs import (
    READ_LIMIT,
    SKIP_CHUNK,
    ServiceName,
    ZoneName,
    machine_zone,
    time_zone,
)
from logvigil.ingest.sources.base import BATCH_BYTES, SourceBatch, SourceConfig


class FileSourceConfig(SourceConfig):
    """`type: file`: a log file followed across rotation and truncation."""

    type: Literal["file"]
    path: Path
    format: FormatName = "auto"
    #: IANA zone of the file's timestamps written without an offset (default: the machine's)
    timezone: ZoneName | None = None
    #: The program of lines that name none (an application's own log; default: unknown)
    service: ServiceName | None = None

    @property
    def source_name(self) -> str:
        return self.name or f"file:{self.path}"


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    """`"inode:offset"` -> (inode, offset); None for a missing or malformed cursor."""
    if not cursor:
        return None
    try:
        inode, offset = cursor.split(":", 1)
        return int(inode), int(offset)
    except ValueError:
        return None


class FileTail:
    """Reads complete lines appended to `path`.

    On start it resumes at the stored cursor when the file is the same inode
    and not shorter than the offset, else from the beginning. A shorter file
    (truncated) is read again from the start; a new inode at the path (rotated)
    is opened from the start once the old file is drained. Lines written to
    the old file after a rotation while the daemon was stopped are not read:
    only the current file is followed.

    A line is read whole up to READ_LIMIT (16 MiB) bytes. A longer one is passed on
    as its head (`LongLine`, which the readers reject or cut) once its newline is
    written; the rest is skipped unread, and the cursor stays at its start until then.
    """

    config_model: ClassVar[type[SourceConfig]] = FileSourceConfig

    def __init__(
        self,
        path: Path | str,
        fmt: str = "auto",
        *,
        cursor: str | None = None,
        name: str | None = None,
        timezone: str | None = None,
        service: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = fmt
        self.name = name or f"file:{self.path}"
        self.naive_tz: tzinfo = time_zone(timezone) if timezone else machine_zone()
        #: The program of lines that name none (None: `ReadOptions`' default).
        self.default_service = service
        self._fh: BinaryIO | None = None
        self._inode: int | None = None
        self._offset = 0
        self._resume = parse_cursor(cursor)
        #: (head, bytes read so far) of an over-long line being skipped
        self._long: tuple[bytes, int] | None = None
        self.error: str | None = None

    @classmethod
    def from_config(cls, spec: FileSourceConfig, cursor: str | None) -> FileTail:
        return cls(
            spec.path,
            spec.format,
            cursor=cursor,
            name=spec.source_name,
            timezone=spec.timezone,
            service=spec.service,
        )

    def reach(self) -> None:
        """A local source: nothing remote to reach."""
        return None

    @property
    def cursor(self) -> str | None:
        if self._inode is None:
            return None
        return f"{self._inode}:{self._offset}"

    def _open(self) -> bool:
        try:
            fh = self.path.open("rb")
        except OSError as exc:
            self.error = f"{self.path}: {exc.strerror}"
            return False
        st = os.fstat(fh.fileno())
        offset = 0
        if self._resume is not None:
            inode, off = self._resume
            if inode == st.st_ino and off <= st.st_size:
                offset = off
            self._resume = None
        fh.seek(offset)
        self._fh, self._inode, self._offset = fh, st.st_ino, offset
        self.error = None
        return True

    def _rotated_or_truncated(self) -> None:
        assert self._fh is not None
        try:
            st_path = self.path.stat()
        except OSError:
            return  # moved away and not yet recreated: keep draining the old file
        st_fh = os.fstat(self._fh.fileno())
        if st_path.st_ino != self._inode:
            self._fh.close()
            self._fh = None
            self._long = None
            self._open()
        elif st_fh.st_size < self._offset + (self._long[1] if self._long else 0):
            self._fh.seek(0)
            self._offset = 0
            self._long = None

    def poll(self, max_lines: int = 5000) -> SourceBatch:
        if self._fh is None and not self._open():
            return SourceBatch([], self.cursor)
        assert self._fh is not None
        lines: list[bytes] = []
        size = 0
        while len(lines) < max_lines and size < BATCH_BYTES:
            if self._long is not None:
                line = self._skip_long()
                if line is None:
                    break  # its newline is not written yet
            else:
                line = self._fh.readline(READ_LIMIT)
                if not line:
                    break
                if not line.endswith(b"\n"):
                    if len(line) < READ_LIMIT:
                        # An incomplete last line: read it again once its newline arrives.
                        self._fh.seek(self._offset)
                        break
                    self._long = (LongLine(line, len(line)), len(line))  # the head only
                    continue
            self._offset += line.size if type(line) is LongLine else len(line)
            lines.append(line)
            size += len(line)
        if not lines:
            self._rotated_or_truncated()
        return SourceBatch(lines, self.cursor)

    def _skip_long(self) -> LongLine | None:
        """Read on through the over-long line being skipped: the line once its newline
        is read, None while the file ends before it."""
        assert self._fh is not None and self._long is not None
        head, read = self._long
        while rest := self._fh.readline(SKIP_CHUNK):
            read += len(rest)
            if rest.endswith(b"\n"):
                self._long = None
                return LongLine(head, read, READ_LIMIT)
        self._long = (head, read)
        return None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
