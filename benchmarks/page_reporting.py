"""The guest's free page reporting: on, as the machine has it, or off for a benchmark.

A virtual machine whose kernel loads ``page_reporting`` (virtio-balloon free page
reporting) hands the memory its processes free back to the host, which then has to find
and clear it again when the guest touches it (:mod:`benchmarks.freed_memory` measures what
that costs). Blocks of ``page_reporting_order`` and larger are reported; set past the
largest order the buddy allocator keeps, none is, and memory freed stays with the guest
as on a machine of its own. Setting it needs root; the setting found is put back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODULE = Path("/sys/module/page_reporting")
ORDER = MODULE / "parameters" / "page_reporting_order"
REPORTED_KIB = MODULE / "parameters" / "reported_kib"  # kept by some guest kernels only
BUDDY_INFO = Path("/proc/buddyinfo")
SETTINGS = ("as-is", "off")


def loaded() -> bool:
    """Whether this machine reports free memory to a host."""
    return MODULE.is_dir()


def reported_bytes() -> int | None:
    """Memory reported to the host since boot, where the kernel counts it."""
    try:
        return int(REPORTED_KIB.read_text()) * 1024
    except (OSError, ValueError):
        return None


def _past_largest_order() -> int:
    """An order no free block reaches: the buddy allocator's orders are the columns of
    ``/proc/buddyinfo`` after ``Node N, zone NAME``."""
    return len(BUDDY_INFO.read_text().splitlines()[0].split()) - 4


@contextmanager
def page_reporting(setting: str) -> Iterator[None]:
    """Free page reporting as the machine has it (``as-is``) or ``off`` inside the block."""
    if setting not in SETTINGS:
        raise ValueError(f"page reporting {setting!r}: one of {', '.join(SETTINGS)}")
    if setting == "as-is" or not loaded():
        yield
        return
    found = ORDER.read_text()
    try:
        ORDER.write_text(f"{_past_largest_order()}\n")
    except OSError as error:
        raise SystemExit(f"cannot turn page reporting off: {ORDER}: {error}") from None
    try:
        yield
    finally:
        ORDER.write_text(found)
