"""The Loki pull source against a real local HTTP server speaking Loki's query_range."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.sources import SOURCES
from logvigil.ingest.sources.loki import LokiSource, LokiSourceConfig, to_ns

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
#: Entries are placed this long before NOW: well behind the 10 s lag.
BASE_NS = to_ns(NOW - timedelta(minutes=5))


@dataclass
class FakeLoki:
    """Loki's query_range over in-memory streams: [start, end) forward, `limit` entries,
    ordered by (timestamp, labels); the answer is grouped into streams as Loki does."""

    streams: list[tuple[dict[str, str], list[tuple[int, str]]]] = field(default_factory=list)
    end_inclusive: bool = False
    fail_with: list[int] = field(default_factory=list)  # statuses for the next requests
    bad_json: int = 0  # this many next answers are not JSON
    hang: threading.Event | None = None  # the next request waits for this event
    requests: list[dict[str, str]] = field(default_factory=list)
    headers: list[Message] = field(default_factory=list)

    def add(self, labels: dict[str, str], *entries: tuple[int, str]) -> None:
        self.streams.append((labels, list(entries)))

    def answer(self, params: dict[str, str]) -> tuple[int, bytes]:
        if self.fail_with:
            status = self.fail_with.pop(0)
            return status, b"too many outstanding requests\n"
        if self.bad_json:
            self.bad_json -= 1
            return 200, b"<html>proxy error</html>"
        assert params["direction"] == "forward"
        start, end, limit = int(params["start"]), int(params["end"]), int(params["limit"])
        picked = sorted(
            (ns, json.dumps(sorted(labels.items())), i, line, id(labels))
            for labels, entries in self.streams
            for i, (ns, line) in enumerate(entries)
            if start <= ns and (ns <= end if self.end_inclusive else ns < end)
        )[:limit]
        result: dict[int, dict[str, Any]] = {}
        for ns, _, _, line, key in picked:
            labels = next(lb for lb, _ in self.streams if id(lb) == key)
            result.setdefault(key, {"stream": labels, "values": []})["values"].append(
                [str(ns), line]
            )
        doc = {
            "status": "success",
            "data": {"resultType": "streams", "result": list(result.values()), "stats": {}},
        }
        return 200, json.dumps(doc).encode()


@pytest.fixture
def loki() -> Iterator[tuple[FakeLoki, str]]:
    fake = FakeLoki()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            assert url.path == "/loki/api/v1/query_range"
            params = dict(urllib.parse.parse_qsl(url.query))
            fake.requests.append(params)
            fake.headers.append(self.headers)  # case-insensitive, like Loki's
            if fake.hang is not None:
                hang, fake.hang = fake.hang, None
                hang.wait(10)  # released by the test once the client gave up
            status, body = fake.answer(params)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client timed out and left
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Clocks:
    """The wall clock (for `end`) and the monotonic clock (for back-off), both by hand."""

    def __init__(self) -> None:
        self.now = NOW
        self.mono = 1000.0

    def source(self, url: str, **kwargs: Any) -> LokiSource:
        kwargs.setdefault("since_seconds", 3600)
        kwargs.setdefault("poll_interval_seconds", 5)
        return LokiSource(url, clock=lambda: self.now, monotonic=lambda: self.mono, **kwargs)


def messages(lines: list[bytes]) -> list[str]:
    return [json.loads(line)["message"] for line in lines]


def drain(src: LokiSource, clocks: Clocks, max_lines: int = 5000) -> list[bytes]:
    """Poll until the source has nothing more (letting the poll interval pass each time)."""
    out: list[bytes] = []
    for _ in range(1000):
        batch = src.poll(max_lines)
        out += batch.lines
        if not batch.lines:
            return out
        clocks.mono += 10
    raise AssertionError("the source never ran dry")


def test_an_entry_becomes_one_of_our_jsonl_lines_with_labels_as_attributes(
    loki: tuple[FakeLoki, str],
) -> None:
    fake, url = loki
    fake.add(
        {"host": "db-01", "app": "postgres", "job": "varlogs", "level": "error", "env": "prod"},
        (BASE_NS + 123_456_789, "could not connect to server"),
    )
    src = Clocks().source(url)
    batch = src.poll()
    assert src.format == "jsonl"
    [line] = batch.lines
    assert json.loads(line) == {
        "ts": "2026-03-04T11:55:00.123456Z",
        "host": "db-01",
        "service": "postgres",
        "severity": "error",
        "message": "could not connect to server",
        "job": "varlogs",
        "env": "prod",
    }
    [event] = read_events(batch.lines, "jsonl", ReadOptions(source=src.name))
    assert isinstance(event, LogEvent)
    assert (event.host, event.service, event.severity) == ("db-01", "postgres", Severity.ERROR)
    assert event.attributes == {"job": "varlogs", "env": "prod"}
    assert event.ts == datetime(2026, 3, 4, 11, 55, 0, 123456, tzinfo=UTC)
    # The window up to `now - lag` held nothing more: the watermark moves to its end.
    assert batch.cursor == f"{to_ns(NOW) - 10 * 10**9}:0"


def test_service_falls_back_through_the_label_list_and_reserved_names_are_kept(
    loki: tuple[FakeLoki, str],
) -> None:
    fake, url = loki
    fake.add({"job": "systemd-journal", "message": "label text"}, (BASE_NS, "hello"))
    [line] = Clocks().source(url).poll().lines
    obj = json.loads(line)
    assert obj["service"] == "systemd-journal" and "host" not in obj
    assert obj["message"] == "hello" and obj["label_message"] == "label text"


def test_full_pages_are_followed_until_the_window_is_read(loki: tuple[FakeLoki, str]) -> None:
    fake, url = loki
    fake.add({"host": "a", "service": "s"}, *((BASE_NS + i, f"m{i}") for i in range(10)))
    src = Clocks().source(url, limit=3)
    assert messages(src.poll().lines) == [f"m{i}" for i in range(10)]
    assert len(fake.requests) >= 4
    assert all(r["limit"] == "3" for r in fake.requests)


@pytest.mark.parametrize("end_inclusive", [False, True], ids=["end-exclusive", "end-inclusive"])
def test_entries_sharing_a_timestamp_across_pages_are_read_exactly_once(
    loki: tuple[FakeLoki, str], end_inclusive: bool
) -> None:
    fake, url = loki
    fake.end_inclusive = end_inclusive
    stamps = [0, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4]
    fake.add({"host": "a", "service": "s"}, *((BASE_NS + t, f"a{i}") for i, t in enumerate(stamps)))
    fake.add({"host": "b", "service": "s"}, (BASE_NS + 1, "b0"), (BASE_NS + 3, "b1"))
    clocks = Clocks()
    got = messages(drain(clocks.source(url, limit=5), clocks))
    assert sorted(got) == sorted([f"a{i}" for i in range(len(stamps))] + ["b0", "b1"])
    assert len(got) == len(set(got))


def test_a_new_source_from_the_saved_cursor_returns_exactly_the_rest(
    loki: tuple[FakeLoki, str],
) -> None:
    fake, url = loki
    stamps = [0, 1, 1, 1, 2, 2, 2, 3, 5, 5]
    fake.add({"host": "a", "service": "s"}, *((BASE_NS + t, f"a{i}") for i, t in enumerate(stamps)))
    fake.add({"host": "b", "service": "s"}, *((BASE_NS + t, f"b{t}") for t in (1, 2, 5)))
    clocks = Clocks()
    whole = messages(drain(clocks.source(url, limit=4), clocks))
    assert len(whole) == 13

    got: list[str] = []
    cursor: str | None = None
    for _ in range(20):  # a restart after every batch of 2
        src = clocks.source(url, limit=4, cursor=cursor)
        batch = src.poll(2)
        got += messages(batch.lines)
        cursor = batch.cursor
        src.close()
        if not batch.lines:
            break
    assert got == whole


def test_entries_newer_than_the_lag_wait_for_the_next_polls(loki: tuple[FakeLoki, str]) -> None:
    fake, url = loki
    now_ns = to_ns(NOW)
    fake.add(
        {"host": "a", "service": "s"}, (now_ns - 20 * 10**9, "old"), (now_ns - 5 * 10**9, "new")
    )
    clocks = Clocks()
    src = clocks.source(url, lag_seconds=10)
    assert messages(src.poll().lines) == ["old"]
    clocks.now += timedelta(seconds=6)
    assert src.poll().lines == []  # not due: the poll interval has not passed
    clocks.mono += 5
    assert messages(src.poll().lines) == ["new"]
    assert all(int(r["end"]) <= to_ns(clocks.now) - 10 * 10**9 for r in fake.requests)


def test_a_server_error_backs_off_keeps_the_watermark_and_recovers(
    loki: tuple[FakeLoki, str],
) -> None:
    fake, url = loki
    fake.add({"host": "a", "service": "s"}, (BASE_NS, "one"), (BASE_NS + 1, "two"))
    clocks = Clocks()
    src = clocks.source(url, limit=1)
    assert messages(src.poll(1).lines) == ["one"]
    cursor = src.cursor
    fake.fail_with = [500, 500]
    clocks.mono += 10
    batch = src.poll()
    assert batch.lines == [] and batch.cursor == cursor
    assert src.error is not None and "HTTP 500" in src.error
    asked = len(fake.requests)
    assert src.poll().lines == []  # backing off: no request at all
    assert len(fake.requests) == asked
    clocks.mono += 1
    assert src.poll().lines == []  # the second 500: the delay doubles
    clocks.mono += 1
    assert src.poll().lines == [] and len(fake.requests) == asked + 1
    clocks.mono += 1
    assert messages(src.poll().lines) == ["two"]
    assert src.error is None


def test_a_response_that_is_not_json_is_an_error_not_a_crash(loki: tuple[FakeLoki, str]) -> None:
    fake, url = loki
    fake.add({"host": "a", "service": "s"}, (BASE_NS, "one"))
    fake.bad_json = 1
    clocks = Clocks()
    src = clocks.source(url)
    assert src.poll().lines == []
    assert src.error is not None and "not JSON" in src.error
    clocks.mono += 1
    assert messages(src.poll().lines) == ["one"]


def test_a_slow_answer_times_out_and_the_next_poll_recovers(loki: tuple[FakeLoki, str]) -> None:
    fake, url = loki
    fake.add({"host": "a", "service": "s"}, (BASE_NS, "one"))
    release = threading.Event()
    fake.hang = release
    clocks = Clocks()
    src = clocks.source(url, timeout_seconds=0.2)
    try:
        batch = src.poll()
        assert batch.lines == []
        assert src.error is not None
        assert "timed out" in src.error or "no answer" in src.error
    finally:
        release.set()
    clocks.mono += 1
    assert messages(src.poll().lines) == ["one"]
    assert src.error is None


def test_credentials_are_sent_as_headers_and_never_appear_in_errors_or_logs(
    loki: tuple[FakeLoki, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = loki
    fake.fail_with = [401]
    cfg = LokiSourceConfig.model_validate(
        {"type": "loki", "url": url, "username": "ops", "password": "hunter2-secret",
         "org_id": "tenant-1", "since_seconds": 60}
    )  # fmt: skip
    src = LokiSource.from_config(cfg)
    with caplog.at_level(logging.DEBUG):
        src.poll()
    assert src.error is not None and "HTTP 401" in src.error
    headers = fake.headers[0]
    assert headers["Authorization"].startswith("Basic ")
    assert headers["X-Scope-OrgID"] == "tenant-1"
    for text in (src.error, caplog.text, repr(cfg), str(cfg.model_dump())):
        assert "hunter2-secret" not in text
        assert headers["Authorization"].split()[1] not in text

    bearer = LokiSource(url, bearer_token="tok-123", since_seconds=60)
    bearer.poll()
    assert fake.headers[-1]["Authorization"] == "Bearer tok-123"


def test_a_malformed_cursor_starts_afresh_and_an_unreachable_server_is_an_error() -> None:
    clocks = Clocks()
    src = clocks.source("http://127.0.0.1:9", cursor="garbage", timeout_seconds=2)
    assert src.poll().lines == []
    assert src.error is not None and src.error.startswith("loki http://127.0.0.1:9")


def test_the_config_model_checks_its_fields() -> None:
    cfg = LokiSourceConfig.model_validate({"type": "loki", "url": "http://loki:3100"})
    assert cfg.query == '{job=~".+"}' and cfg.lag_seconds == 10
    assert LokiSource.from_config(cfg, cursor="5:1").cursor == "5:1"
    assert SOURCES["loki"] is LokiSource
    bad = [
        ({"url": "http://u:p@loki:3100"}, "must not contain credentials"),
        ({"url": "ftp://loki"}, "url must be http"),
        ({"url": "http://loki", "password": "x"}, "username is not"),
        ({"url": "http://loki", "username": "u", "bearer_token": "t"}, "not both"),
        ({"url": "http://loki", "limt": 5}, "extra"),
    ]
    for fields, message in bad:
        with pytest.raises(ValidationError, match=message):
            LokiSourceConfig.model_validate({"type": "loki", **fields})


def test_a_caught_up_source_asks_once_per_poll_interval_while_the_clock_runs(
    loki: tuple[FakeLoki, str],
) -> None:
    fake, url = loki
    clocks = Clocks()

    def running_clock() -> datetime:
        clocks.now += timedelta(milliseconds=1)  # time passes at every reading
        return clocks.now

    src = LokiSource(url, since_seconds=60, clock=running_clock, monotonic=lambda: clocks.mono)
    assert src.poll().lines == []
    assert len(fake.requests) == 1
    assert src.poll().lines == []  # the poll interval has not passed
    assert len(fake.requests) == 1
