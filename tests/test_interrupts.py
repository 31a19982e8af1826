"""A Ctrl-C inside the standard library's thread bookkeeping is raised in its caller."""

import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from detector.interrupts import held_in_thread_code


@pytest.fixture(autouse=True)
def python_handles_ctrl_c():
    """Python's own Ctrl-C handler, as a job in a terminal's foreground has it (a job a
    shell starts in the background without job control inherits Ctrl-C ignored)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _thread_code(body: str, **names):
    """A function ``run`` whose frame is in the ``threading`` module, as the thread
    bookkeeping Python's own locks run in."""
    namespace = {"__name__": "threading", "signal": signal, **names}
    exec(f"def run():\n{body}", namespace)
    return namespace["run"]


# A Ctrl-C just after taking a lock, before the block that would release it.
TAKE = "    lock.acquire()\n    signal.raise_signal(signal.SIGINT)\n    lock.release()\n"


def test_ctrl_c_in_thread_code_is_raised_once_its_caller_runs_again():
    lock = threading.Lock()
    take = _thread_code(TAKE, lock=lock)
    ran = []
    with pytest.raises(KeyboardInterrupt), held_in_thread_code():
        take()
        ran.append("the next line")  # the interrupt is raised before this line runs
    assert not lock.locked() and ran == []


def test_without_it_the_lock_stays_held():
    """The failure it prevents: Python raises in the middle of the thread code."""
    lock = threading.Lock()
    with pytest.raises(KeyboardInterrupt):
        _thread_code(TAKE, lock=lock)()
    assert lock.locked()


def test_ctrl_c_is_raised_where_the_caller_returns_without_another_line():
    lock = threading.Lock()
    take = _thread_code(TAKE, lock=lock)

    def calls_last() -> None:
        return take()

    with pytest.raises(KeyboardInterrupt), held_in_thread_code():
        calls_last()
    assert not lock.locked()


def test_ctrl_c_elsewhere_is_raised_at_once_and_the_handler_is_restored():
    ran = []
    with pytest.raises(KeyboardInterrupt), held_in_thread_code():
        signal.raise_signal(signal.SIGINT)
        ran.append("the next line")
    assert ran == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_thread_pool_interrupted_while_waiting_exits():
    """Ctrl-C while the main thread waits for a worker: raised once the wait is over,
    and the pool then shuts down."""
    started = threading.Event()

    def work() -> int:
        started.set()
        signal.raise_signal(signal.SIGINT)  # as Ctrl-C would, while the main thread waits
        return 1

    with pytest.raises(KeyboardInterrupt), held_in_thread_code(), ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()
    assert started.is_set()


def test_nested_or_outside_the_main_thread_it_does_nothing():
    with held_in_thread_code():
        handler = signal.getsignal(signal.SIGINT)
        with held_in_thread_code():
            assert signal.getsignal(signal.SIGINT) is handler
    seen = []
    thread = threading.Thread(target=lambda: seen.append(held_in_thread_code().__enter__()))
    thread.start()
    thread.join()
    assert seen == [None] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
