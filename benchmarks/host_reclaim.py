"""The host's reclaim of a virtual machine's memory: as the machine has it, or off for a
benchmark.

A guest can hand memory back to its host in two ways, and both cost a longer scan more
than a shorter one. With free page reporting (the kernel's ``page_reporting``, for
virtio-balloon) the memory its processes free goes back to the host, which has to find
and clear it again when the guest touches it (:mod:`benchmarks.freed_memory` measures
what that costs); blocks of ``page_reporting_order`` and larger are reported, so set past
the largest order the buddy allocator keeps, none is. With DAMON's proactive reclaim (a
kdamond running a ``pageout`` scheme) the page cache left untouched for a while is
dropped, so that spilled files a scan reads back a minute after writing them come from the
disk again. ``off`` turns both off, as on a machine of its own (root only); what was found
is put back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

MODULE = Path("/sys/module/page_reporting")
ORDER = MODULE / "parameters" / "page_reporting_order"
REPORTED_KIB = MODULE / "parameters" / "reported_kib"  # kept by some guest kernels only
BUDDY_INFO = Path("/proc/buddyinfo")
KDAMONDS = Path("/sys/kernel/mm/damon/admin/kdamonds")
SETTINGS = ("as-is", "off")


def reports_free_memory() -> bool:
    """Whether this machine reports free memory to a host."""
    return MODULE.is_dir()


def reported_bytes() -> int | None:
    """Memory reported to the host since boot, where the kernel counts it."""
    try:
        return int(REPORTED_KIB.read_text()) * 1024
    except (OSError, ValueError):
        return None


def paging_out() -> list[Path]:
    """The running kdamonds with a ``pageout`` scheme: DAMON's proactive reclaim."""
    return [
        kdamond
        for kdamond in sorted(KDAMONDS.glob("[0-9]*"))
        if (kdamond / "state").read_text().strip() == "on" and _pageout_schemes(kdamond)
    ]


def paged_out_bytes() -> int | None:
    """What the running kdamonds' ``pageout`` schemes have paged out since they started;
    None where none runs. Their counts are refreshed first (``update_schemes_stats``)."""
    kdamonds = paging_out()
    if not kdamonds:
        return None
    total = 0
    for kdamond in kdamonds:
        (kdamond / "state").write_text("update_schemes_stats\n")
        total += sum(
            int((scheme / "stats" / "sz_applied").read_text())
            for scheme in _pageout_schemes(kdamond)
        )
    return total


def _pageout_schemes(kdamond: Path) -> list[Path]:
    return [
        scheme
        for scheme in sorted(kdamond.glob("contexts/[0-9]*/schemes/[0-9]*"))
        if (scheme / "action").read_text().strip() == "pageout"
    ]


def _past_largest_order() -> int:
    """An order no free block reaches: the buddy allocator's orders are the columns of
    ``/proc/buddyinfo`` after ``Node N, zone NAME``."""
    return len(BUDDY_INFO.read_text().splitlines()[0].split()) - 4


@contextmanager
def _written(path: Path, value: str, then: str, what: str) -> Iterator[None]:
    """``path`` holding ``value`` inside the block, ``then`` after it."""
    try:
        path.write_text(value)
    except OSError as error:
        raise SystemExit(f"cannot turn {what} off: {path}: {error}") from None
    try:
        yield
    finally:
        path.write_text(then)


@contextmanager
def host_reclaim(setting: str) -> Iterator[None]:
    """The host's reclaim as the machine has it (``as-is``) or ``off`` inside the block:
    no free page reported, no kdamond paging out."""
    if setting not in SETTINGS:
        raise ValueError(f"host reclaim {setting!r}: one of {', '.join(SETTINGS)}")
    with ExitStack() as stack:
        if setting == "off":
            if reports_free_memory():
                found = ORDER.read_text()
                stack.enter_context(
                    _written(ORDER, f"{_past_largest_order()}\n", found, "page reporting")
                )
            for kdamond in paging_out():  # restarted with its settings, counts from zero
                stack.enter_context(_written(kdamond / "state", "off\n", "on\n", "DAMON"))
        yield
