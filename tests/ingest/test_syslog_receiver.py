"""The syslog receiver on real UDP and TCP sockets on 127.0.0.1 (free ports)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.sources import SOURCES
from logvigil.ingest.sources.syslog_receiver import SyslogReceiver, SyslogReceiverConfig, TcpFramer

RFC5424 = b"<165>1 2026-03-04T10:00:00.003Z db-01 postgres 4321 ID47 - FATAL: out of memory"
RFC3164 = b"<34>Mar  4 10:00:00 web-01 nginx[99]: connect() failed (111: Connection refused)"
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
#: Polling on real sockets is bounded by this; a test that passes never waits this long.
DEADLINE_S = 10.0


@pytest.fixture
def receiver() -> Iterator[SyslogReceiver]:
    src = SyslogReceiver("127.0.0.1", udp_port=0, tcp_port=0)
    assert src.error is None
    yield src
    src.close()


def collect(src: SyslogReceiver, n: int) -> list[bytes]:
    """Poll until `n` lines arrived (or the deadline passed); returns what arrived."""
    lines: list[bytes] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(lines) < n and time.monotonic() < deadline:
        batch = src.poll(5000)
        assert batch.cursor is None
        lines += batch.lines
        if not batch.lines:
            time.sleep(0.001)
    return lines


def wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def events(lines: list[bytes]) -> list[LogEvent | Rejected]:
    return list(read_events(lines, "syslog", ReadOptions(source="syslog", default_time=NOW)))


def udp_send(src: SyslogReceiver, *payloads: bytes) -> None:
    assert src.udp_address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for payload in payloads:
            s.sendto(payload, src.udp_address)


def tcp_connect(src: SyslogReceiver) -> socket.socket:
    assert src.tcp_address is not None
    s = socket.create_connection(src.tcp_address, timeout=DEADLINE_S)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def octets(msg: bytes) -> bytes:
    return b"%d %s" % (len(msg), msg)


# ---------------------------------------------------------------- UDP


def test_a_udp_datagram_is_one_message_without_its_trailing_nul_or_newline(
    receiver: SyslogReceiver,
) -> None:
    udp_send(receiver, RFC5424 + b"\n\x00", RFC3164 + b"\r\n")
    lines = collect(receiver, 2)
    assert sorted(lines) == sorted([RFC5424, RFC3164])
    assert receiver.format == "syslog"
    parsed = {e.host: e for e in events(lines) if isinstance(e, LogEvent)}
    assert parsed["db-01"].service == "postgres"
    assert parsed["db-01"].attributes["facility"] == "local4"
    assert parsed["db-01"].message == "FATAL: out of memory"
    assert parsed["web-01"].service == "nginx"
    assert parsed["web-01"].severity is Severity.CRITICAL
    assert receiver.stats.received == 2


def test_an_oversized_udp_datagram_is_cut_on_a_character_boundary_and_counted() -> None:
    src = SyslogReceiver(udp_port=0, tcp_port=None, max_message_bytes=4096)
    try:
        body = RFC3164 + b" " + "é".encode() * 5000
        udp_send(src, body)
        [line] = collect(src, 1)
        assert len(line) <= 4096 and body.startswith(line)
        line.decode("utf-8")  # not split inside a character
        assert src.stats.oversized == 1
        [event] = events([line])
        assert isinstance(event, LogEvent) and event.host == "web-01"
    finally:
        src.close()


def test_udp_datagrams_that_find_the_queue_full_are_dropped_and_counted() -> None:
    src = SyslogReceiver(udp_port=0, tcp_port=None, queue_messages=5)
    try:
        udp_send(src, *(RFC3164 + b" #%d" % i for i in range(20)))
        wait_for(lambda: src.stats.received == 20, "20 datagrams")
        assert src.stats.dropped == 15
        assert src.stats.queued == 5
        lines = collect(src, 5)
        assert lines == [RFC3164 + b" #%d" % i for i in range(5)]
        udp_send(src, RFC5424)  # room again
        assert collect(src, 1) == [RFC5424]
        assert src.stats.dropped == 15
    finally:
        src.close()


def test_an_rfc5424_message_without_hostname_gets_the_sender_address(
    receiver: SyslogReceiver,
) -> None:
    udp_send(receiver, b"<14>1 2026-03-04T10:00:00Z - cron - - - job done")
    [line] = collect(receiver, 1)
    assert line == b"<14>1 2026-03-04T10:00:00Z 127.0.0.1 cron - - - job done"
    [event] = events([line])
    assert isinstance(event, LogEvent) and event.host == "127.0.0.1"


# ---------------------------------------------------------------- TCP


def test_tcp_newline_framing_delivers_each_line_as_a_message(receiver: SyslogReceiver) -> None:
    with tcp_connect(receiver) as s:
        s.sendall(RFC5424 + b"\n" + RFC3164 + b"\r\n\n" + RFC5424.replace(b"ID47", b"ID48"))
    lines = collect(receiver, 3)  # the last one ends with the connection, not a newline
    assert lines == [RFC5424, RFC3164, RFC5424.replace(b"ID47", b"ID48")]
    assert all(isinstance(e, LogEvent) for e in events(lines))


def test_tcp_octet_counting_keeps_newlines_inside_a_message(receiver: SyslogReceiver) -> None:
    trace = RFC5424 + b"\nTraceback (most recent call last):\n  File x.py"
    with tcp_connect(receiver) as s:
        s.sendall(octets(trace) + octets(RFC3164) + b"\n" + octets(RFC5424))
    lines = collect(receiver, 3)
    assert lines == [trace, RFC3164, RFC5424]
    first = events(lines)[0]
    assert isinstance(first, LogEvent)
    assert first.message.startswith("FATAL: out of memory\\nTraceback")


@pytest.mark.parametrize("octet_counting", [True, False], ids=["octet-counted", "newline"])
def test_a_frame_split_across_tcp_segments_is_reassembled(
    receiver: SyslogReceiver, octet_counting: bool
) -> None:
    frames = [RFC5424, RFC3164] * 3
    stream = b"".join(octets(f) if octet_counting else f + b"\n" for f in frames)
    with tcp_connect(receiver) as s:
        for i in range(0, len(stream), 7):  # split inside the count, the header, the body
            s.sendall(stream[i : i + 7])
    assert collect(receiver, 6) == frames


def test_the_framer_reassembles_a_stream_fed_one_byte_at_a_time() -> None:
    framer = TcpFramer()
    stream = octets(RFC5424) + octets(b"x" * 12) + octets(RFC3164)
    got = [m for i in range(len(stream)) for m in framer.feed(stream[i : i + 1])]
    assert got == [RFC5424, b"x" * 12, RFC3164]
    assert framer.finish() == []
    assert (framer.oversized, framer.framing_errors) == (0, 0)


def test_an_oversized_tcp_frame_is_cut_counted_and_the_next_frame_survives() -> None:
    src = SyslogReceiver(udp_port=None, tcp_port=0, max_message_bytes=2048)
    try:
        huge = RFC3164 + b" " + b"A" * 10_000
        with tcp_connect(src) as s:
            s.sendall(octets(huge) + octets(RFC5424))
        with tcp_connect(src) as s:
            s.sendall(huge + b"\n" + RFC3164 + b"\n")
        lines = collect(src, 4)
        assert lines[0] == lines[2] == huge[:2048]
        assert sorted(lines[1::2]) == sorted([RFC5424, RFC3164])
        wait_for(lambda: src.stats.oversized == 2, "both oversized frames counted")
    finally:
        src.close()


def test_garbage_bytes_do_not_stop_the_receiver(receiver: SyslogReceiver) -> None:
    garbage = os.urandom(3000).replace(b"\n", b"") + b"\n"
    with tcp_connect(receiver) as s:
        s.sendall(garbage + b"\xff\xfe not syslog\n" + RFC3164 + b"\n")
    udp_send(receiver, os.urandom(500))
    lines = collect(receiver, 4)
    assert RFC3164 in lines
    parsed = events(lines)
    assert sum(isinstance(e, LogEvent) for e in parsed) >= 1
    assert any(isinstance(e, Rejected) for e in parsed)  # counted by the pipeline, not lost
    with tcp_connect(receiver) as s:  # still serving
        s.sendall(octets(RFC5424))
    assert collect(receiver, 1) == [RFC5424]


def test_a_bad_octet_count_is_counted_and_the_stream_resynchronises(
    receiver: SyslogReceiver,
) -> None:
    with tcp_connect(receiver) as s:
        s.sendall(octets(RFC5424) + b"oops no count\n" + octets(RFC3164))
    assert collect(receiver, 3) == [RFC5424, b"oops no count", RFC3164]
    wait_for(lambda: receiver.stats.framing_errors == 1, "the framing error counted")


def test_a_full_queue_makes_a_tcp_sender_wait_instead_of_dropping() -> None:
    src = SyslogReceiver(udp_port=None, tcp_port=0, queue_messages=50)
    try:
        msgs = [RFC3164 + b" #%06d " % i + b"x" * 900 for i in range(20_000)]
        stream = b"".join(m + b"\n" for m in msgs)
        s = tcp_connect(src)
        sent = 100_000
        s.sendall(stream[:sent])
        wait_for(lambda: src.stats.queued == 50, "the queue to fill")
        s.setblocking(False)
        blocked = False
        while sent < len(stream):  # until the kernel buffers are full and send would block
            try:
                sent += s.send(stream[sent : sent + 65536])
            except BlockingIOError:
                blocked = True
                break
        assert blocked, "the receiver kept reading although its queue was full"
        # The receiver stopped reading: most of the stream still waits in the sender.
        assert src.stats.received < len(msgs) // 10
        assert src.stats.queued == 50
        s.setblocking(True)
        writer = threading.Thread(target=lambda: (s.sendall(stream[sent:]), s.close()))
        writer.start()
        lines = collect(src, len(msgs))
        writer.join(DEADLINE_S)
        assert lines == msgs
        assert src.stats.dropped == 0
    finally:
        src.close()


def test_many_connections_at_once_are_all_served(receiver: SyslogReceiver) -> None:
    conns = [tcp_connect(receiver) for _ in range(40)]
    for n, s in enumerate(conns):
        s.sendall(b"".join(octets(RFC3164 + b" c%d m%d" % (n, i)) for i in range(10)))
    for s in conns:
        s.close()
    lines = collect(receiver, 400)
    assert sorted(lines) == sorted(
        RFC3164 + b" c%d m%d" % (n, i) for n in range(40) for i in range(10)
    )
    wait_for(lambda: receiver.stats.connections == 0, "connections closed")


def test_connections_beyond_the_limit_are_refused_and_counted() -> None:
    src = SyslogReceiver(udp_port=None, tcp_port=0, max_connections=2)
    try:
        kept = [tcp_connect(src) for _ in range(2)]
        wait_for(lambda: src.stats.connections == 2, "two connections")
        extra = tcp_connect(src)
        wait_for(lambda: src.stats.refused_connections == 1, "the refusal")
        assert extra.recv(1) == b""  # closed by the receiver
        kept[0].sendall(RFC3164 + b"\n")
        assert collect(src, 1) == [RFC3164]
        for s in [*kept, extra]:
            s.close()
    finally:
        src.close()


# ---------------------------------------------------------------- lifecycle and config


def test_a_port_in_use_is_reported_in_error_not_raised() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        src = SyslogReceiver(udp_port=None, tcp_port=port)
        try:
            assert src.poll().lines == []
            assert src.error is not None and f"tcp 127.0.0.1:{port}" in src.error
        finally:
            src.close()


def test_after_close_the_source_is_finished_and_its_port_free() -> None:
    src = SyslogReceiver(udp_port=0, tcp_port=0)
    assert src.tcp_address is not None
    port = src.tcp_address[1]
    src.close()
    assert src.poll().finished
    again = SyslogReceiver(udp_port=None, tcp_port=port)
    try:
        assert again.error is None
    finally:
        again.close()


def test_the_config_model_builds_a_receiver_and_refuses_unknown_keys() -> None:
    cfg = SyslogReceiverConfig.model_validate({"type": "syslog", "udp_port": 0, "tcp_port": None})
    assert cfg.bind == "127.0.0.1"
    src = SyslogReceiver.from_config(cfg)
    try:
        assert src.name == "syslog" and src.udp_address is not None and src.tcp_address is None
    finally:
        src.close()
    assert SOURCES["syslog"] is SyslogReceiver
    with pytest.raises(ValidationError, match="extra"):
        SyslogReceiverConfig.model_validate({"type": "syslog", "prot": 514})
    with pytest.raises(ValidationError, match="enable at least one"):
        SyslogReceiverConfig.model_validate({"type": "syslog", "udp_port": None, "tcp_port": None})
