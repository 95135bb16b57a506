"""SIGTERM and SIGINT stop the daemon cleanly: they set its stop event, nothing more."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

#: The signals that stop the daemon cleanly.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set `stop`; returns a function that restores the previous
    handlers.

    The Python-level handler does nothing: it runs on the main thread between two
    bytecodes, possibly while that thread holds `stop`'s own lock (inside
    `Event.wait`) or while a first signal's handler is inside `stop.set()`, and
    taking the lock again there deadlocks (seen when systemd and a shell both sent
    SIGTERM). Instead the C-level handler writes the signal number to a pipe
    (`signal.set_wakeup_fd`) and a watcher thread logs it and sets `stop`.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {sig: signal.signal(sig, _ignore_in_python) for sig in STOP_SIGNALS}

    def watch() -> None:
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                data = b""
            if not data:  # `restore` closed the write end
                os.close(read_fd)
                return
            for signum in data:
                if signum in STOP_SIGNALS:
                    log.info("received %s; finishing the current tick", signal.Signals(signum).name)
                    stop.set()

    threading.Thread(target=watch, name="signals", daemon=True).start()

    def restore() -> None:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)  # the watcher reads EOF, closes its end and ends

    return restore


def _ignore_in_python(signum: int, frame: FrameType | None) -> None:
    """The wakeup fd carries the signal; see `install_signal_handlers`."""
