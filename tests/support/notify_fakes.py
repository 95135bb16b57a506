"""A local HTTP server that answers as Discord's webhook endpoint does, and test values.

Scriptable: `server.script` is a list of answers consumed one per request
("429", "500", "503", "502html" (a proxy's HTML error page), "404", "401", "204",
"hold"); with the list empty it
answers 200 with the message (and its id) under `?wait=true`, 204 without.
A "hold" answer counts the delivery (Discord posts once it has the request)
and then waits for `release` before answering 200. Every request is recorded,
with multipart bodies split into their parts.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from detector.incidents.model import Incident, IncidentStatus, RootRef
from investigate.model import Report, RootCause
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

TOKEN = "s3cr3t-T0KEN-abcdefghijklmnopqrstuvwxyz0123456789"
WEBHOOK_PATH = f"/api/webhooks/1234567890/{TOKEN}"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    files: dict[str, bytes] = field(default_factory=dict)


class FakeDiscord:
    def __init__(self) -> None:
        self.script: list[str] = []
        self.requests: list[Recorded] = []
        self.deliveries = 0
        self.received = threading.Event()
        self.release = threading.Event()
        self._ids = itertools.count(900000000000000001)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{WEBHOOK_PATH}"

    def start(self) -> FakeDiscord:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _record(self, h: BaseHTTPRequestHandler) -> Recorded:
        length = int(h.headers.get("Content-Length", 0))
        body = h.rfile.read(length)
        parts = urlsplit(h.path)
        rec = Recorded("POST", parts.path, parse_qs(parts.query), dict(h.headers), body)
        ctype = h.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            rec.json = json.loads(body)
        elif ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + body
            )
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True)
                if name == "payload_json":
                    rec.json = json.loads(data)
                else:
                    rec.files[name] = data
        return rec

    def _send(self, h: BaseHTTPRequestHandler, status: int, obj: Any = None, **headers) -> None:
        data = b"" if obj is None else json.dumps(obj).encode()
        h.send_response(status)
        if obj is not None:
            h.send_header("Content-Type", "application/json")
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        rec = self._record(h)
        with self._lock:
            self.requests.append(rec)
            action = self.script.pop(0) if self.script else "ok"
        if rec.path != WEBHOOK_PATH:
            self._send(h, 404, {"message": "Unknown Webhook", "code": 10015})
            return
        if action == "429":
            self._send(
                h,
                429,
                {"message": "You are being rate limited.", "retry_after": 0.2, "global": False},
                Retry_After="1",
                X_RateLimit_Reset_After="0.2",
                Via="1.1 google",
            )
            return
        if action in ("500", "502", "503"):
            self._send(h, int(action), {"message": "Service Unavailable", "code": 0})
            return
        if action == "502html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            h.send_response(502)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(page)))
            h.end_headers()
            h.wfile.write(page)
            return
        if action == "404":
            self._send(h, 404, {"message": "Unknown Webhook", "code": 10015})
            return
        if action == "401":
            self._send(h, 401, {"message": "Invalid Webhook Token", "code": 50027})
            return
        with self._lock:
            self.deliveries += 1
        self.received.set()
        if action == "hold":
            self.release.wait(20)
        if action == "204" or rec.query.get("wait") != ["true"]:
            self._send(h, 204)
            return
        self._send(h, 200, {"id": str(next(self._ids)), "type": 0, "content": ""})


T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
POSTGRES_ROOT = RootRef("postgres", "db-01")


def make_incident(
    incident_id: int = 42,
    *,
    title: str = "postgres OOM-killed on db-01 -> nextcloud, nginx degraded",
    severity: Severity = Severity.CRITICAL,
    services: tuple[str, ...] = ("nextcloud", "nginx", "postgres"),
    hosts: tuple[str, ...] = ("db-01", "web-01"),
    root: RootRef | None = POSTGRES_ROOT,
    opened_at: datetime = T0,
    resolved_at: datetime | None = None,
    summary: str = "Out of memory: Killed process 4242 (postgres)",
) -> Incident:
    finding = Finding(
        detector="primitive",
        at=opened_at,
        started_at=opened_at,
        service=root.service if root else services[0],
        host=root.host if root else hosts[0],
        severity=severity,
        summary=summary,
        kind="oom_kill",
    )
    return Incident(
        id=incident_id,
        status=IncidentStatus.RESOLVED if resolved_at else IncidentStatus.OPEN,
        severity=severity,
        title=title,
        opened_at=opened_at,
        updated_at=opened_at,
        last_finding_at=opened_at,
        resolved_at=resolved_at,
        services=services,
        hosts=hosts,
        findings=(finding,),
        root=root,
        blast_radius=("nextcloud", "nginx"),
    )


def make_report(
    incident_id: int = 42,
    *,
    summary: str = "killed by the OOM killer",
    certain: tuple[str, ...] = (),
) -> Report:
    """The deterministic report of `make_incident`'s postgres OOM kill."""
    return Report(
        incident_id=incident_id,
        title="postgres OOM-killed on db-01 -> nextcloud, nginx degraded",
        root_cause=RootCause("postgres", "db-01", summary, 0.9, ("E1",)),
        no_root_cause=False,
        critical_failure=None,
        impact=[],
        timeline=[],
        evidence=[],
        hypotheses=[],
        certain=list(certain),
        possible=[],
        suggested_actions=[],
    )
