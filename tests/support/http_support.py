"""For the local HTTP servers of the tests (a model server, an embedding server)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


def send_json(handler: BaseHTTPRequestHandler, code: int, data: bytes) -> None:
    """Answer `code` with the JSON body `data`; a client that gave up (a timeout test)
    is not an error."""
    try:
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:
        pass
