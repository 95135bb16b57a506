"""Pull log entries from Grafana Loki (`GET /loki/api/v1/query_range`).

Each entry becomes one LogVigil JSONL line (`format = "jsonl"`):
`{"ts", "host", "service", "message", ...}` where `host` and `service` come
from the first present label of `host_labels` / `service_labels`, `severity`
from `severity_labels`, and every other label (and any structured metadata)
is kept as an attribute.

Cursor: `"<ns>:<n>"`, the time watermark. `<ns>` is the timestamp (Unix
nanoseconds) of the last entry handed to the daemon, or the end of a window
that held no more entries; `<n>` counts the entries at exactly `<ns>` already
handed out. The next query starts at `<ns>` (Loki's `start` is inclusive) and
skips those `<n>` entries, so entries sharing a timestamp are neither skipped
nor duplicated, across pages and across restarts. Entries are ordered by
(timestamp, stream labels, position in the stream). A full page is cut before
its last timestamp, which the next query starts at, so a group of equal
timestamps is always read within one response. Loki cannot page inside one
timestamp: when `limit` or more entries share one, the first `limit` are read,
the rest skipped, and `crowded_timestamps` counts it (raise `limit`).

Queries end `lag_seconds` before the wall clock, so an entry that reaches Loki
up to that late is still read; one that arrives later than that, with a
timestamp below the watermark, is never read. Errors (HTTP status, a timeout,
bad JSON, an unexpected shape) set `error` and back off 1, 2, 4 ... 60 s; the
watermark does not move, so nothing is lost to an error.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from logvigil.core.redact import display_url
from logvigil.core.timeutil import iso_z, wall_clock
from logvigil.ingest.sources.base import SourceBatch, SourceConfig

#: `json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`, its encoder built once:
#: every line pulled is one record.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

log = logging.getLogger(__name__)

QUERY_PATH = "/loki/api/v1/query_range"
DEFAULT_QUERY = '{job=~".+"}'
HOST_LABELS = ("host", "hostname")
#: Loki 3 fills `service_name` itself; `job` is the last resort.
SERVICE_LABELS = ("service", "service_name", "app", "job")
SEVERITY_LABELS = ("level", "severity", "detected_level")
#: Entries asked for per query (Loki's own default cap, `max_entries_limit_per_query`, is 5000).
DEFAULT_LIMIT = 1000
#: A response larger than this is refused: lower `limit` instead.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_BACKOFF_S = 60.0
#: JSONL keys we write; a label with one of these names is kept as `label_<name>`.
_RESERVED = frozenset({"ts", "host", "service", "severity", "message"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LokiError(Exception):
    """A query failed; the message is safe to log (no credentials)."""


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    """`"<ns>:<n>"` -> (ns, n); None for a missing or malformed cursor."""
    if not cursor:
        return None
    try:
        ns, n = (int(part) for part in cursor.split(":", 1))
    except ValueError:
        return None
    return (ns, n) if ns >= 0 and n >= 0 else None


def to_ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _iso(ns: int) -> str:
    moment = _EPOCH + timedelta(microseconds=ns // 1000)
    return iso_z(moment, "microseconds")


class LokiSourceConfig(SourceConfig):
    """`type: loki`: pull entries from a Loki server's query_range API."""

    type: Literal["loki"]
    url: str = Field(description="Loki's base URL, e.g. http://loki:3100")
    query: Annotated[str, Field(min_length=1)] = DEFAULT_QUERY
    name: str | None = Field(default=None, description="cursor name; default loki:<url>")
    host_labels: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: list(HOST_LABELS)
    )
    service_labels: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: list(SERVICE_LABELS)
    )
    severity_labels: list[str] = Field(default_factory=lambda: list(SEVERITY_LABELS))
    limit: Annotated[int, Field(gt=0, le=100_000)] = DEFAULT_LIMIT
    step_seconds: Annotated[float, Field(gt=0, le=86_400)] = 3600.0
    lag_seconds: Annotated[float, Field(ge=0, le=86_400)] = 10.0
    since_seconds: Annotated[float, Field(ge=0, le=365 * 86_400)] = 0.0
    poll_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    username: str | None = None
    password: SecretStr | None = None
    bearer_token: SecretStr | None = None
    org_id: str | None = Field(default=None, description="sent as X-Scope-OrgID")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urllib.parse.urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be http://HOST[:PORT] or https://HOST[:PORT]")
        if parts.username is not None or parts.password is not None:
            raise ValueError("url must not contain credentials: use username/password")
        return v

    @model_validator(mode="after")
    def _one_auth(self) -> Self:
        if self.bearer_token is not None and self.username is not None:
            raise ValueError("set either bearer_token or username/password, not both")
        if self.password is not None and self.username is None:
            raise ValueError("password is set but username is not")
        return self

    @property
    def source_name(self) -> str:
        return self.name or f"loki:{display_url(self.url)}"


class LokiSource:
    """Reads the entries matching `query` from the Loki at `url` (its base URL).

    `clock` is the wall clock that places the end of each query (`lag_seconds`
    before it); `monotonic` schedules polls and back-off. Both are injectable
    for tests. `poll()` makes at most `max_lines // limit + 1` requests and
    never raises: failures are in `error`.
    """

    config_model: ClassVar[type[SourceConfig]] = LokiSourceConfig

    format = "jsonl"

    def reach(self) -> None:
        """Loki is a service, not a host of the inventory: a Loki that cannot be reached
        shows as the source's error (`logvigil status`), not as a silent host."""
        return None

    def __init__(
        self,
        url: str,
        query: str = DEFAULT_QUERY,
        *,
        name: str | None = None,
        host_labels: Sequence[str] = HOST_LABELS,
        service_labels: Sequence[str] = SERVICE_LABELS,
        severity_labels: Sequence[str] = SEVERITY_LABELS,
        limit: int = DEFAULT_LIMIT,
        step_seconds: float = 3600.0,
        lag_seconds: float = 10.0,
        since_seconds: float = 0.0,
        poll_interval_seconds: float = 5.0,
        timeout_seconds: float = 10.0,
        username: str | None = None,
        password: str | None = None,
        bearer_token: str | None = None,
        org_id: str | None = None,
        cursor: str | None = None,
        clock: Callable[[], datetime] = wall_clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit <= 0:
            raise ValueError(f"limit must be positive, got: {limit}")
        if step_seconds <= 0:
            raise ValueError(f"step_seconds must be positive, got: {step_seconds}")
        self.url = url.rstrip("/")
        self.query = query
        self.shown_url = display_url(self.url)
        self.name = name or f"loki:{self.shown_url}"
        self.host_labels = tuple(host_labels)
        self.service_labels = tuple(service_labels)
        self.severity_labels = tuple(severity_labels)
        self.limit = limit
        self.step_ns = int(step_seconds * 1e9)
        self.lag_ns = int(lag_seconds * 1e9)
        self.since_ns = int(since_seconds * 1e9)
        self.poll_interval = poll_interval_seconds
        self.timeout = timeout_seconds
        self.clock = clock
        self.monotonic = monotonic
        self.error: str | None = None
        self._headers = {"Accept": "application/json", "User-Agent": "logvigil"}
        if bearer_token is not None:
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        elif username is not None:
            pair = f"{username}:{password or ''}".encode()
            self._headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
        if org_id is not None:
            self._headers["X-Scope-OrgID"] = org_id
        resume = parse_cursor(cursor)
        if cursor and resume is None:
            log.warning("%s: ignoring malformed cursor %r", self.name, cursor[:64])
        # Handed out (the cursor) and fetched (where the next query starts): they
        # differ while fetched lines wait in `_pending` for the next poll.
        self._mark: tuple[int, int] | None = resume
        self._fetched: tuple[int, int] | None = resume
        self._pending: deque[tuple[int, bytes]] = deque()
        self._advance_to: int | None = None  # watermark once _pending drains
        self._next_query = 0.0
        self._failures = 0
        #: Counters for metrics: queries made, and timestamps with more than `limit` entries.
        self.requests = 0
        self.crowded_timestamps = 0

    @classmethod
    def from_config(cls, cfg: LokiSourceConfig, cursor: str | None = None) -> LokiSource:
        secret = lambda s: s.get_secret_value() if s is not None else None  # noqa: E731
        return cls(
            cfg.url,
            cfg.query,
            name=cfg.source_name,
            host_labels=cfg.host_labels,
            service_labels=cfg.service_labels,
            severity_labels=cfg.severity_labels,
            limit=cfg.limit,
            step_seconds=cfg.step_seconds,
            lag_seconds=cfg.lag_seconds,
            since_seconds=cfg.since_seconds,
            poll_interval_seconds=cfg.poll_interval_seconds,
            timeout_seconds=cfg.timeout_seconds,
            username=cfg.username,
            password=secret(cfg.password),
            bearer_token=secret(cfg.bearer_token),
            org_id=cfg.org_id,
            cursor=cursor,
        )

    # ---------------------------------------------------------------- public

    @property
    def cursor(self) -> str | None:
        return None if self._mark is None else f"{self._mark[0]}:{self._mark[1]}"

    def poll(self, max_lines: int = 5000) -> SourceBatch:
        lines = self._drain(max_lines)
        while len(lines) < max_lines and self.monotonic() >= self._next_query:
            try:
                more = self._fetch()
            except LokiError as exc:
                self._failures += 1
                delay = min(2.0 ** (self._failures - 1), MAX_BACKOFF_S)
                self._next_query = self.monotonic() + delay
                self.error = f"{exc}; retrying in {delay:g}s"
                log.warning("%s: %s", self.name, self.error)
                break
            self._failures = 0
            self.error = None
            lines += self._drain(max_lines - len(lines))
            if not more:
                self._next_query = self.monotonic() + self.poll_interval
                break
        return SourceBatch(lines, self.cursor)

    def close(self) -> None:
        self._pending.clear()

    # ---------------------------------------------------------------- watermark

    def _drain(self, n: int) -> list[bytes]:
        """Hand out up to `n` pending lines, moving the cursor past each."""
        out: list[bytes] = []
        while self._pending and len(out) < n:
            ns, line = self._pending.popleft()
            self._mark = _after(self._mark, ns)
            out.append(line)
        if not self._pending and self._advance_to is not None:
            if self._mark is None or self._mark[0] < self._advance_to:
                self._mark = (self._advance_to, 0)
            self._advance_to = None
        return out

    def _fetch(self) -> bool:
        """Query one window from the fetched watermark into `_pending`.

        Returns whether more is known to be waiting (a full page, or a window
        cut short by `step_seconds`): not merely because the clock moved on, so
        a caught-up source waits `poll_interval_seconds` between queries.
        Raises LokiError; then nothing moved.
        """
        horizon = to_ns(self.clock()) - self.lag_ns  # read once: "more" is relative to it
        if self._fetched is None:
            self._fetched = self._mark = (max(0, horizon - self.since_ns), 0)
        start, skip = self._fetched
        end = min(horizon, start + self.step_ns)
        if end <= start:
            return False
        entries = self._query(start, end)
        full = len(entries) >= self.limit
        if full and entries[0][0] != entries[-1][0]:
            # The last timestamp's group may continue on the next page: leave it for the
            # next query, which starts at it. Everything before it is complete.
            last = entries[-1][0]
            entries = [e for e in entries if e[0] != last]
            complete_to = last
        elif full:
            # A full page of one timestamp: Loki has no offset, so entries at it beyond
            # the first `limit` cannot be read. Take these and go on after it.
            complete_to = entries[0][0] + 1
            self.crowded_timestamps += 1
            log.warning(
                "%s: %d or more entries share timestamp %d; any beyond %d are skipped"
                " (raise `limit`)",
                self.name, self.limit, entries[0][0], self.limit,
            )  # fmt: skip
        else:
            # Loki's `end` is exclusive; were it inclusive, entries at `end` were just
            # counted and the watermark stays on them (see below).
            complete_to = end
        fetched = self._fetched
        for ns, line in entries:
            if ns < start or (ns == start and skip > 0):
                skip -= ns == start
                continue  # before the watermark, or already handed out
            self._pending.append((ns, line))
            fetched = _after(fetched, ns)
        if fetched[0] < complete_to:
            fetched = (complete_to, 0)
            if self._pending:
                self._advance_to = complete_to
            elif self._mark is None or self._mark[0] < complete_to:
                self._mark = (complete_to, 0)
        self._fetched = fetched
        return full or end < horizon

    # ---------------------------------------------------------------- HTTP

    def _query(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Return the window's entries as (ns, JSONL line), sorted. Raises LokiError."""
        params = urllib.parse.urlencode(
            {
                "query": self.query,
                "start": str(start),
                "end": str(end),
                "limit": str(self.limit),
                "direction": "forward",
            }
        )
        request = urllib.request.Request(f"{self.url}{QUERY_PATH}?{params}", headers=self._headers)
        where = f"loki {self.shown_url}"
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = _snippet(exc.read(512) if exc.fp is not None else b"")
            raise LokiError(f"{where}: HTTP {exc.code} {exc.reason}{detail}") from None
        except urllib.error.URLError as exc:
            raise LokiError(f"{where}: {exc.reason}") from None
        except TimeoutError:
            raise LokiError(f"{where}: no answer within {self.timeout:g}s") from None
        except OSError as exc:
            raise LokiError(f"{where}: {exc.strerror or exc}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise LokiError(f"{where}: response over {MAX_RESPONSE_BYTES} bytes; lower `limit`")
        return self._entries(body, where)

    def _entries(self, body: bytes, where: str) -> list[tuple[int, bytes]]:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise LokiError(f"{where}: response is not JSON ({_short(exc)})") from None
        try:
            if doc.get("status") != "success":
                raise LokiError(f"{where}: status {_short(doc.get('status'))}")
            data = doc["data"]
            if data.get("resultType") != "streams":
                kind = _short(data.get("resultType"))
                raise LokiError(f"{where}: result type {kind}, not streams (a log query?)")
            keyed: list[tuple[int, str, int, bytes]] = []
            for stream in data["result"]:
                labels = {str(k): str(v) for k, v in (stream.get("stream") or {}).items()}
                order = json.dumps(sorted(labels.items()))
                for index, value in enumerate(stream["values"]):
                    ns = int(value[0])
                    meta = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
                    line = self._line(ns, str(value[1]), labels, meta)
                    keyed.append((ns, order, index, line))
        except LokiError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise LokiError(f"{where}: unexpected response shape ({_short(exc)})") from None
        keyed.sort(key=lambda e: e[:3])
        return [(ns, line) for ns, _, _, line in keyed]

    def _line(self, ns: int, text: str, labels: dict[str, str], meta: dict[str, Any]) -> bytes:
        obj: dict[str, Any] = {"ts": _iso(ns)}
        rest = dict(labels)
        for key, labels_tried in (
            ("host", self.host_labels),
            ("service", self.service_labels),
            ("severity", self.severity_labels),
        ):
            for label in labels_tried:
                if rest.get(label):
                    obj[key] = rest.pop(label)
                    break
        obj["message"] = text
        for key, value in (*rest.items(), *meta.items()):
            name = f"label_{key}" if key in _RESERVED or key in obj else key
            obj.setdefault(name, value)
        return _COMPACT_JSON(obj).encode()


def _after(mark: tuple[int, int] | None, ns: int) -> tuple[int, int]:
    """The watermark after handing out one entry at `ns`."""
    if mark is not None and mark[0] == ns:
        return ns, mark[1] + 1
    return ns, 1


def _short(value: object) -> str:
    return repr(str(value)[:120])


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")[:200]
    return f": {text}" if text else ""


# ---------------------------------------------------------------- config
