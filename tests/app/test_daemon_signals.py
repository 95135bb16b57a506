"""SIGTERM / SIGINT stop the daemon without ever deadlocking its stop event."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading

from logvigil.app.signals import install_signal_handlers

# A signal handler runs on the main thread between two bytecodes, possibly while that
# thread holds the stop event's lock (inside Event.wait or a first handler's
# Event.set). A handler that calls stop.set() there waits for itself forever. The
# script reproduces exactly that moment; it runs in a child so a deadlock is a
# timeout, not a hung test session.
HOLDS_THE_LOCK = textwrap.dedent(
    """
    import signal, threading
    from logvigil.app.signals import install_signal_handlers

    stop = threading.Event()
    restore = install_signal_handlers(stop)
    with stop._cond:  # what the main thread holds inside Event.wait / Event.set
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
    assert stop.wait(10), "the stop event was never set"
    restore()
    print("stopped")
    """
)


def test_a_signal_that_arrives_while_the_stop_lock_is_held_still_stops() -> None:
    out = subprocess.run(
        [sys.executable, "-c", HOLDS_THE_LOCK], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "stopped"


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    restore = install_signal_handlers(stop)
    try:
        assert signal.getsignal(signal.SIGTERM) is not before[0]
        signal.raise_signal(signal.SIGTERM)
        assert stop.wait(10)
    finally:
        restore()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
