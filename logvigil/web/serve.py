"""Serving the pages with uvicorn: in the foreground (`logvigil web`) or beside the
daemon in a thread (`logvigil run` with `web.listen` set)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette

#: How long `serve_in_thread` waits for the socket to be bound.
START_TIMEOUT = 10.0


def serve(app: Starlette, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn handles SIGINT and SIGTERM)."""
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def serve_in_thread(app: Starlette, host: str, port: int) -> Callable[[], None]:
    """Serve in a daemon thread; returns the function that stops it. Raises OSError when
    the address cannot be bound (taken, not ours) within `START_TIMEOUT` seconds."""
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="logvigil-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise OSError(f"cannot serve the pages on {host}:{port} (address in use?)")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    return stop
