"""Receive syslog messages over the network: UDP datagrams and TCP streams.

UDP (RFC 5426): one message per datagram; trailing NUL, CR and LF are removed.
TCP (RFC 6587): both framings, decided per connection by its first frame:
octet counting (`LEN SP MSG`, the frame starts with a run of digits and a
space) or non-transparent framing (one message per LF-terminated line).

A bounded buffer sits between the receiving threads and `poll()`:

* UDP: a datagram that finds the buffer full is dropped and counted
  (`stats.dropped`); UDP has no way to ask the sender to wait.
* TCP: a connection whose message finds the buffer full stops reading until
  there is room, so the kernel buffers fill and the sender blocks.

Syslog has no acknowledgement, so the cursor is always None and nothing is
replayed after a restart. What can be lost:

* UDP datagrams dropped by the network or the kernel (its receive buffer full),
  and datagrams that arrive while this buffer is full (counted as dropped) or
  while the daemon is not running;
* for both transports, messages received but not yet flushed to the store when
  the process dies: those in this buffer (at most `queue_messages`) and those
  in the ingestor's unflushed batch (a couple of seconds' worth);
* for TCP, also what the sender had written into a connection that then broke
  (the sender's kernel buffer) unless the sender itself retransmits.

Messages longer than `max_message_bytes` are cut there (on a UTF-8 character
boundary) and counted (`stats.oversized`); the rest of the frame is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from logvigil.core.events import MAX_LINE_BYTES
from logvigil.ingest.sources.base import SourceBatch, SourceConfig

log = logging.getLogger(__name__)

#: Default message size limit: the same as a log line's.
MAX_MESSAGE_BYTES = MAX_LINE_BYTES
#: Messages buffered between the receiving threads and `poll()`.
QUEUE_MESSAGES = 10_000
#: Bytes buffered at most (whatever the message count): bounds memory at 64 KiB messages.
QUEUE_BYTES = 32 * 1024 * 1024
#: Concurrent TCP connections; more are accepted and closed at once (and counted).
MAX_CONNECTIONS = 256
#: How often blocked threads look at the stop flag (a socket timeout, not a sleep).
_STOP_CHECK_S = 0.25
#: Largest UDP payload (IPv6 jumbograms aside).
_UDP_RECV_BYTES = 65_535
# RFC 6587 octet counting: `MSG-LEN SP`, MSG-LEN a nonzero number (at most 10 digits here).
_DIGITS = re.compile(rb"\d{1,10}( |\Z)")
_OCTET_COUNT = re.compile(rb"([1-9]\d{0,9})( |\Z)")
_TCP_RECV_BYTES = 65_536

# RFC 5424 header up to HOSTNAME, whose NILVALUE "-" is filled with the sender's address.
_NIL_HOSTNAME = re.compile(rb"(<\d{1,3}>[1-9]\d{0,2} \S+ )- ")


@dataclass(frozen=True, slots=True)
class ReceiverStats:
    """Counters since start, for metrics.

    `received`: messages framed from the network (including dropped ones);
    `dropped`: UDP messages discarded because the buffer was full;
    `oversized`: messages cut at `max_message_bytes`;
    `framing_errors`: TCP frames with a bad octet count, and streams that ended
    inside a frame (the partial message is still delivered);
    `refused_connections`: TCP connections closed because MAX_CONNECTIONS were open;
    `connections`: TCP connections open now; `queued`: messages waiting for `poll()`.
    """

    received: int = 0
    dropped: int = 0
    oversized: int = 0
    framing_errors: int = 0
    refused_connections: int = 0
    connections: int = 0
    queued: int = 0


def _cut(data: bytes, limit: int) -> bytes:
    """Return at most `limit` bytes of `data`, not splitting a UTF-8 character."""
    if len(data) <= limit:
        return data
    end = limit
    while end > limit - 3 and end > 0 and (data[end] & 0xC0) == 0x80:
        end -= 1
    return data[:end]


class TcpFramer:
    """Splits one TCP stream into syslog messages (RFC 6587), incrementally.

    `feed(data)` returns the messages completed by `data`; `finish()` the one
    left unterminated when the stream ends. The framing is decided by the first
    frame: octet counting if it starts with digits and a space, else LF. On an
    octet-counted connection a frame without a valid count is read up to the
    next LF and counted in `framing_errors`, so one bad frame does not garble
    the rest of the stream. Never raises on input.
    """

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max = max_message_bytes
        self.octet_counting: bool | None = None
        self.oversized = 0
        self.framing_errors = 0
        self._buf = bytearray()
        self._need = 0  # octet counting: bytes of the current frame still to come
        self._frame = bytearray()  # octet counting: the current frame so far (cut at max)
        self._in_frame = False
        self._skipping = False  # LF framing: discarding the tail of an oversized line
        self._cut = False
        self._resync = False  # octet counting: reading a frame without a count up to its LF

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while self._buf:
            if self._in_frame:
                if not self._octet_body():
                    break
                if msg := self._take_frame():
                    out.append(msg)
                continue
            if self.octet_counting is None:
                self._decide()
                if self.octet_counting is None:
                    break  # only digits so far: cannot tell yet
            if self.octet_counting and not self._resync:
                # Tolerate the LF (or CRLF) some senders put after each counted frame.
                while self._buf[:1] in (b"\n", b"\r"):
                    del self._buf[:1]
                if not self._buf:
                    break
                header = self._octet_header()
                if header is None:
                    break  # the count is not complete yet
                if header:
                    continue  # now inside the frame
                self.framing_errors += 1
                self._resync = True  # read this frame up to its LF
            msg = self._line()
            if msg is None:
                break
            if not self._skipping:
                self._resync = False
            if msg:
                out.append(msg)
        return out

    def finish(self) -> list[bytes]:
        """The message left when the stream ends, if any (no LF, or a short octet frame)."""
        if self._in_frame:  # the body was moved into the frame by feed()
            self.framing_errors += 1
            msg = self._take_frame()
            return [msg] if msg else []
        if self._skipping or not self._buf:
            return []
        msg = _clean(bytes(self._buf))
        self._buf.clear()
        return [msg] if msg else []

    def _decide(self) -> None:
        m = _DIGITS.match(self._buf)
        if m is None:
            self.octet_counting = False
        elif m.group(1):
            self.octet_counting = True
        # else: only digits so far, wait for more

    def _octet_header(self) -> bool | None:
        """Consume `LEN SP` and enter the frame: True; not a count: False; incomplete: None."""
        m = _OCTET_COUNT.match(self._buf)
        if m is None:
            return False
        if not m.group(2):
            return None
        self._need = int(m.group(1))
        del self._buf[: m.end()]
        self._in_frame, self._cut = True, self._need > self.max
        self._frame.clear()
        return True

    def _octet_body(self) -> bool:
        """Move body bytes from the buffer into the frame; True once the frame is complete."""
        take = min(self._need, len(self._buf))
        # One byte beyond the limit is kept, so the cut can see whether it splits a character.
        room = max(0, self.max + 1 - len(self._frame))
        self._frame += self._buf[: min(take, room)]
        del self._buf[:take]
        self._need -= take
        return self._need == 0

    def _take_frame(self) -> bytes:
        self._in_frame = False
        msg = bytes(self._frame)
        if self._cut:
            self.oversized += 1
            msg = _cut(msg, self.max)
        self._frame.clear()
        return _clean(msg)

    def _line(self) -> bytes | None:
        """One LF-terminated message from the buffer (b"" when skipped), None if incomplete."""
        end = self._buf.find(b"\n")
        if self._skipping:
            if end < 0:
                self._buf.clear()
                return None
            del self._buf[: end + 1]
            self._skipping = False
            return b""
        if end < 0:
            if len(self._buf) <= self.max:
                return None
            self.oversized += 1
            msg = _cut(bytes(self._buf), self.max)
            self._buf.clear()
            self._skipping = True
            return _clean(msg)
        line = bytes(self._buf[:end])
        del self._buf[: end + 1]
        if len(line) > self.max:
            self.oversized += 1
            line = _cut(line, self.max)
        return _clean(line)


def _clean(msg: bytes) -> bytes:
    return msg.rstrip(b"\r\n\x00")


class _Buffer:
    """A FIFO bounded in messages and in bytes, shared by the receiving threads."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages, self.max_bytes = max_messages, max_bytes
        self._items: deque[bytes] = deque()
        self._bytes = 0
        self._cond = threading.Condition()

    def __len__(self) -> int:
        return len(self._items)

    def _fits(self, size: int) -> bool:
        if not self._items:
            return True  # one message always fits, however large
        return len(self._items) < self.max_messages and self._bytes + size <= self.max_bytes

    def offer(self, msg: bytes) -> bool:
        """Append without waiting; False when full."""
        with self._cond:
            if not self._fits(len(msg)):
                return False
            self._items.append(msg)
            self._bytes += len(msg)
            return True

    def put(self, msg: bytes, stop: threading.Event) -> bool:
        """Append, waiting for room; False if `stop` was set first."""
        with self._cond:
            while not self._fits(len(msg)):
                if stop.is_set():
                    return False
                self._cond.wait(_STOP_CHECK_S)
            self._items.append(msg)
            self._bytes += len(msg)
            return True

    def take(self, n: int) -> list[bytes]:
        with self._cond:
            out: list[bytes] = []
            while self._items and len(out) < n:
                msg = self._items.popleft()
                self._bytes -= len(msg)
                out.append(msg)
            if out:
                self._cond.notify_all()
            return out


class SyslogReceiverConfig(SourceConfig):
    """`type: syslog`: a syslog server. Binds loopback unless `bind` says otherwise."""

    type: Literal["syslog"]
    name: str | None = Field(default=None, description='cursor/metrics name; default "syslog"')
    bind: str = "127.0.0.1"
    udp_port: Port | None = 5514
    tcp_port: Port | None = 5514
    max_message_bytes: Annotated[int, Field(ge=2048, le=1024 * 1024)] = MAX_MESSAGE_BYTES
    queue_messages: Annotated[int, Field(gt=0, le=1_000_000)] = QUEUE_MESSAGES
    max_connections: Annotated[int, Field(gt=0, le=10_000)] = MAX_CONNECTIONS
    fill_hostname: bool = Field(
        default=True,
        description="an RFC 5424 message whose HOSTNAME is '-' gets the sender's address",
    )

    @model_validator(mode="after")
    def _some_port(self) -> Self:
        if self.udp_port is None and self.tcp_port is None:
            raise ValueError("udp_port and tcp_port are both null: enable at least one")
        return self


class SyslogReceiver:
    """A syslog server on `bind`: UDP on `udp_port`, TCP on `tcp_port` (None: off).

    Port 0 binds a free port (`udp_address` / `tcp_address` say which). The
    sockets are opened by the constructor; when that fails (port in use,
    permission) `error` says why and each `poll()` tries again, so a
    configuration mistake is reported, not raised. `poll()` never waits.
    """

    config_model: ClassVar[type[SourceConfig]] = SyslogReceiverConfig

    format = "syslog"

    def reach(self) -> None:
        """A local source: nothing remote to reach."""
        return None

    def __init__(
        self,
        bind: str = "127.0.0.1",
        udp_port: int | None = 5514,
        tcp_port: int | None = 5514,
        *,
        name: str = "syslog",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        queue_messages: int = QUEUE_MESSAGES,
        queue_bytes: int = QUEUE_BYTES,
        max_connections: int = MAX_CONNECTIONS,
        fill_hostname: bool = True,
    ) -> None:
        if udp_port is None and tcp_port is None:
            raise ValueError("a syslog receiver needs udp_port or tcp_port (or both)")
        if max_message_bytes <= 0:
            raise ValueError(f"max_message_bytes must be positive, got: {max_message_bytes}")
        self.name = name
        self.bind = bind
        self.udp_port, self.tcp_port = udp_port, tcp_port
        self.max_message_bytes = max_message_bytes
        self.max_connections = max_connections
        self.fill_hostname = fill_hostname
        self.error: str | None = None
        self.udp_address: tuple[str, int] | None = None
        self.tcp_address: tuple[str, int] | None = None
        self._buffer = _Buffer(queue_messages, queue_bytes)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counts = {k: 0 for k in ("received", "dropped", "oversized", "framing_errors")}
        self._refused = 0
        self._conns: set[socket.socket] = set()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._start()

    @classmethod
    def from_config(cls, cfg: SyslogReceiverConfig, cursor: str | None = None) -> SyslogReceiver:
        """A receiver has no cursor: what arrives while it is down is the sender's to keep."""
        return cls(
            cfg.bind,
            cfg.udp_port,
            cfg.tcp_port,
            name=cfg.source_name,
            max_message_bytes=cfg.max_message_bytes,
            queue_messages=cfg.queue_messages,
            max_connections=cfg.max_connections,
            fill_hostname=cfg.fill_hostname,
        )

    # ---------------------------------------------------------------- public

    @property
    def stats(self) -> ReceiverStats:
        with self._lock:
            return ReceiverStats(
                **self._counts,
                refused_connections=self._refused,
                connections=len(self._conns),
                queued=len(self._buffer),
            )

    def poll(self, max_lines: int = 5000) -> SourceBatch:
        if self._stop.is_set():
            return SourceBatch([], None, finished=True)
        if self.error is not None:
            self._start()
        return SourceBatch(self._buffer.take(max_lines), None)

    def close(self) -> None:
        """Stop receiving; what is still buffered is lost (see the module docstring)."""
        self._stop.set()
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2 * _STOP_CHECK_S + 1)

    # ---------------------------------------------------------------- sockets

    def _start(self) -> None:
        """Open whichever socket is not open yet; sets or clears `error`."""
        problems: list[str] = []
        if self.udp_port is not None and self._udp is None:
            try:
                self._udp = _bound(self.bind, self.udp_port, socket.SOCK_DGRAM)
            except OSError as exc:
                problems.append(f"udp {self.bind}:{self.udp_port}: {exc.strerror or exc}")
            else:
                self.udp_address = self._udp.getsockname()[:2]
                self._spawn(self._serve_udp, "udp")
        if self.tcp_port is not None and self._tcp is None:
            try:
                self._tcp = _bound(self.bind, self.tcp_port, socket.SOCK_STREAM)
                self._tcp.listen(128)
            except OSError as exc:
                if self._tcp is not None:
                    self._tcp.close()
                    self._tcp = None
                problems.append(f"tcp {self.bind}:{self.tcp_port}: {exc.strerror or exc}")
            else:
                self.tcp_address = self._tcp.getsockname()[:2]
                self._spawn(self._serve_tcp, "tcp")
        self.error = f"syslog receiver cannot listen: {'; '.join(problems)}" if problems else None
        if problems:
            log.error("%s %s", self.name, self.error)

    def _spawn(self, target: object, what: str, *args: object) -> None:
        thread = threading.Thread(
            target=target,  # type: ignore[arg-type]
            args=args,
            name=f"{self.name}-{what}",
            daemon=True,
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _message(self, msg: bytes, peer: str) -> bytes:
        if self.fill_hostname and msg[:1] == b"<":
            return _NIL_HOSTNAME.sub(lambda m: m.group(1) + peer.encode() + b" ", msg, count=1)
        return msg

    def _serve_udp(self) -> None:
        sock = self._udp
        assert sock is not None
        while not self._stop.is_set():
            try:
                data, peer = sock.recvfrom(_UDP_RECV_BYTES)
            except TimeoutError:
                continue
            except OSError:
                break  # closed
            msg = _clean(data)
            if not msg:
                continue
            with self._lock:
                self._counts["received"] += 1
                if len(msg) > self.max_message_bytes:
                    self._counts["oversized"] += 1
                    msg = _cut(msg, self.max_message_bytes)
            if not self._buffer.offer(self._message(msg, peer[0])):
                self._count("dropped")

    def _serve_tcp(self) -> None:
        sock = self._tcp
        assert sock is not None
        while not self._stop.is_set():
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break  # closed
            with self._lock:
                full = len(self._conns) >= self.max_connections
                if full:
                    self._refused += 1
                else:
                    self._conns.add(conn)
            if full:
                conn.close()
                continue
            conn.settimeout(_STOP_CHECK_S)  # recv wakes up to look at the stop flag
            self._spawn(self._serve_connection, "conn", conn, peer[0])

    def _serve_connection(self, conn: socket.socket, peer: str) -> None:
        framer = TcpFramer(self.max_message_bytes)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(_TCP_RECV_BYTES)
                except TimeoutError:
                    continue
                except OSError:
                    break  # reset by the peer, or closed by close()
                msgs = framer.feed(data) if data else framer.finish()
                self._deliver(framer, msgs, peer)
                if not data:
                    break
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def _deliver(self, framer: TcpFramer, msgs: list[bytes], peer: str) -> None:
        with self._lock:
            self._counts["received"] += len(msgs)
            self._counts["oversized"] += framer.oversized
            self._counts["framing_errors"] += framer.framing_errors
        framer.oversized = framer.framing_errors = 0
        for msg in msgs:
            # Waiting here is the backpressure: this connection is not read meanwhile.
            if not self._buffer.put(self._message(msg, peer), self._stop):
                return


def _bound(host: str, port: int, kind: socket.SocketKind) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    sock.settimeout(_STOP_CHECK_S)  # blocking calls wake up to look at the stop flag
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the peer
        conn.shutdown(socket.SHUT_RDWR)


# ---------------------------------------------------------------- config

Port = Annotated[int, Field(ge=0, le=65535)]
