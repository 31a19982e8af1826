"""Ctrl-C that never lands inside the standard library's thread bookkeeping.

Python raises KeyboardInterrupt between any two bytecodes, also inside ``threading`` and
``concurrent.futures``: between a lock's acquiring and the ``with`` block that releases
it, the lock stays held for good. A worker thread then waits for that lock forever, and
the scan, joining its workers as it unwinds, never exits (about one interrupted scan in
36 hung so, in a thread pool's own ``submit``). While :func:`held_in_thread_code` is on, a
Ctrl-C that arrives in such code is raised instead in the code that called it, as soon
as that code runs again: the way a debugger stops there (``bdb``), a trace function set
on that frame alone (a tracer set before, a debugger's or a coverage tool's, is switched
off with it).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# Modules whose code takes locks that other threads wait for.
THREAD_CODE = ("threading", "queue", "concurrent.futures")


@contextmanager
def held_in_thread_code() -> Iterator[None]:
    """Raise a Ctrl-C that arrives while the main thread runs thread bookkeeping in the
    code that called it, once it is back there. Does nothing outside the main thread
    (which alone gets KeyboardInterrupt), where Ctrl-C is ignored (a job a shell starts
    in the background) or where it already has another handler (an enclosing use,
    PySpark's)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    held: list[FrameType] = []  # the frame the interrupt is raised in, while it waits

    def interrupt(frame: FrameType, event: str, arg: Any) -> None:
        _stop_tracing(held)
        raise KeyboardInterrupt

    def handle(signum: int, frame: FrameType | None) -> None:
        caller = _caller_of_thread_code(frame)
        if caller is None:
            raise KeyboardInterrupt
        if not held:
            held.append(caller)
            caller.f_trace = interrupt
            sys.settrace(_untraced)  # tracing on, for that frame's tracer alone

    signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if held:  # the block ended before its caller ran again
            _stop_tracing(held)
            raise KeyboardInterrupt


def _caller_of_thread_code(frame: FrameType | None) -> FrameType | None:
    """The frame that called the thread bookkeeping ``frame`` runs in, or None where
    ``frame`` is not in :data:`THREAD_CODE`."""
    in_thread_code = False
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if any(module == name or module.startswith(f"{name}.") for name in THREAD_CODE):
            in_thread_code = True
        elif in_thread_code:
            return frame
        else:
            return None
        frame = frame.f_back
    return None


def _untraced(frame: FrameType, event: str, arg: Any) -> None:
    """Trace no frame newly called."""


def _stop_tracing(held: list[FrameType]) -> None:
    sys.settrace(None)
    held.pop().f_trace = None
