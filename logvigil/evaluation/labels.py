"""Hand-made labels of a real log file: what must page, what may, and when.

A label file (`<log>.labels.yaml`, beside the log) is written by a person reading
the log line by line; its format is described in docs/evaluation.md:

    file: plemma_syslog.log
    format: syslog                     # syslog | jsonl | journal-short
    timezone_of_timestamps: UTC        # an IANA zone, or "unknown"
    year: 2022                         # the year the span starts in
    span: {start: "05-22 00:00:06", end: "05-29 11:56:38"}
    must_page: [{id, start, end, kind, host, services, evidence}, ...]
    may_page:  [... the same, plus `why`]
    benign_notes: "..."

Times are written as the file prints them, `MM-DD HH:MM:SS`, in the file's own
zone and without a year; a span may cross New Year. `LabelFile.utc(text)` turns
one into an aware UTC datetime. Events may carry extra informative keys
(`kills`, `why`), which are kept and not checked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from logvigil.core.configbase import Strict
from logvigil.core.yamlfile import ConfigError, Problem, load_yaml, problems_from_validation

#: A label time as the file prints it (no year, the file's zone).
LABEL_TIME = re.compile(r"^(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$")
LABELS_SUFFIX = ".labels.yaml"
UNKNOWN_ZONE = "unknown"

#: The product's reader for each label `format`.
FORMATS = {"syslog": "syslog", "jsonl": "jsonl", "journal-short": "auto"}


def _check_time(value: str) -> str:
    m = LABEL_TIME.match(value)
    if m is None:
        raise ValueError(f"expected a time as MM-DD HH:MM:SS, got: {value!r}")
    month, day, hour, minute, second = (int(g) for g in m.groups())
    try:
        datetime(2000, month, day, hour, minute, second)  # 2000: a leap year admits 02-29
    except ValueError as exc:
        raise ValueError(f"not a time of the year: {value!r} ({exc})") from None
    return value


LabelTime = str


class Span(Strict):
    start: LabelTime
    end: LabelTime

    _times = field_validator("start", "end")(_check_time)


class LabelEvent(Strict):
    """One labelled problem. Extra keys (`kills`, `why`, ...) are informative: kept."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    start: LabelTime
    end: LabelTime
    kind: str = Field(min_length=1)
    host: str = Field(min_length=1)
    services: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)

    _times = field_validator("start", "end")(_check_time)


class LabelFile(Strict):
    """The whole label file of one log."""

    file: str = Field(min_length=1)
    format: Literal["syslog", "jsonl", "journal-short"]
    timezone_of_timestamps: str = UNKNOWN_ZONE
    year: int = Field(ge=1970, le=2200)
    span: Span
    must_page: list[LabelEvent] = Field(default_factory=list)
    may_page: list[LabelEvent] = Field(default_factory=list)
    benign_notes: str = ""

    @field_validator("timezone_of_timestamps")
    @classmethod
    def _zone(cls, v: str) -> str:
        if v != UNKNOWN_ZONE:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {v!r} (an IANA name such as Europe/Berlin, or unknown)"
                ) from None
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> LabelFile:
        ids = [e.id for e in (*self.must_page, *self.may_page)]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"event ids must be unique, repeated: {repeated}")
        return self

    @property
    def zone(self) -> tzinfo:
        """The zone the file's times are in (UTC when unknown)."""
        if self.timezone_of_timestamps == UNKNOWN_ZONE:
            return UTC
        return ZoneInfo(self.timezone_of_timestamps)

    def utc(self, text: LabelTime) -> datetime:
        """A label time in UTC. A month-day before the span's start lies in the next year
        (the span crosses New Year); a local time that does not exist (a DST gap) is
        read as the offset before the gap, one that occurs twice as the first."""
        m = LABEL_TIME.match(text)
        if m is None:
            raise ValueError(f"not a label time: {text!r}")
        month, day, hour, minute, second = (int(g) for g in m.groups())
        year = self.year + (1 if (month, day) < _month_day(self.span.start) else 0)
        local = datetime(year, month, day, hour, minute, second, tzinfo=self.zone)
        return local.astimezone(UTC)

    @property
    def first(self) -> datetime:
        return self.utc(self.span.start)

    @property
    def last(self) -> datetime:
        return self.utc(self.span.end)

    @property
    def days(self) -> float:
        """The span in days (at least one minute's worth)."""
        return max((self.last - self.first) / timedelta(days=1), 1 / 1440)


def _month_day(text: LabelTime) -> tuple[int, int]:
    return int(text[0:2]), int(text[3:5])


def load_labels(path: Path | str) -> LabelFile:
    """Read and validate a label file. Raises ConfigError naming file, line and field."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([Problem(doc.file, doc.line_of(()), "", "a label file is a mapping")])
    try:
        return LabelFile.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, doc, LabelFile)) from None


def label_files(directory: Path | str) -> list[Path]:
    """Every `*.labels.yaml` in `directory`, sorted. Raises ConfigError when `directory`
    is not a directory or holds none."""
    d = Path(directory)
    if not d.is_dir():
        raise ConfigError([Problem(str(d), None, "", "no such directory")])
    found = sorted(d.glob(f"*{LABELS_SUFFIX}"))
    if not found:
        raise ConfigError([Problem(str(d), None, "", f"no *{LABELS_SUFFIX} file in it")])
    return found
