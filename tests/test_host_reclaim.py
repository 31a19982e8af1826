"""The host's reclaim turned off for a benchmark, and put back as it was found."""

from pathlib import Path

import pytest

from benchmarks import host_reclaim as reclaim

BUDDY = "Node 0, zone   Normal  23225  12109  10094  5301  5613  3384  418  9  5  1  1127\n"


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A page_reporting module's parameters and a buddy allocator of orders 0 to 10."""
    parameters = tmp_path / "page_reporting" / "parameters"
    parameters.mkdir(parents=True)
    (parameters / "page_reporting_order").write_text("9\n")
    (parameters / "reported_kib").write_text("1024\n")
    (tmp_path / "buddyinfo").write_text(BUDDY)
    monkeypatch.setattr(reclaim, "MODULE", tmp_path / "page_reporting")
    monkeypatch.setattr(reclaim, "ORDER", parameters / "page_reporting_order")
    monkeypatch.setattr(reclaim, "REPORTED_KIB", parameters / "reported_kib")
    monkeypatch.setattr(reclaim, "BUDDY_INFO", tmp_path / "buddyinfo")
    monkeypatch.setattr(reclaim, "KDAMONDS", tmp_path / "kdamonds")
    return parameters


def _kdamond(root: Path, number: int, state: str, actions: list[str], applied: int) -> Path:
    """A kdamond's sysfs folder: its state and one context with a scheme per action."""
    kdamond = root / "kdamonds" / str(number)
    for index, action in enumerate(actions):
        scheme = kdamond / "contexts" / "0" / "schemes" / str(index)
        (scheme / "stats").mkdir(parents=True)
        (scheme / "action").write_text(f"{action}\n")
        (scheme / "stats" / "sz_applied").write_text(f"{applied}\n")
    (kdamond / "state").write_text(f"{state}\n")
    return kdamond


def test_off_sets_an_order_no_block_reaches_and_puts_the_found_one_back(module: Path):
    order = module / "page_reporting_order"
    with reclaim.host_reclaim("off"):
        assert order.read_text() == "11\n"  # orders 0..10 in buddyinfo
    assert order.read_text() == "9\n"
    with pytest.raises(RuntimeError), reclaim.host_reclaim("off"):
        raise RuntimeError("a scan failed")
    assert order.read_text() == "9\n"


def test_off_stops_the_kdamonds_that_page_out_and_starts_them_again(module: Path):
    pageout = _kdamond(module.parent.parent, 0, "on", ["stat", "pageout"], 4096)
    other = _kdamond(module.parent.parent, 1, "on", ["stat"], 0)
    stopped = _kdamond(module.parent.parent, 2, "off", ["pageout"], 0)
    assert reclaim.paging_out() == [pageout]
    assert reclaim.paged_out_bytes() == 4096
    assert (pageout / "state").read_text() == "update_schemes_stats\n"  # counts refreshed
    (pageout / "state").write_text("on\n")  # as the kernel's file reads after the command
    with pytest.raises(RuntimeError), reclaim.host_reclaim("off"):
        assert (pageout / "state").read_text() == "off\n"
        assert (other / "state").read_text() == "on\n"
        raise RuntimeError("a scan failed")
    assert (pageout / "state").read_text() == "on\n"
    assert (stopped / "state").read_text() == "off\n"


def test_as_is_leaves_the_machine_alone(module: Path):
    kdamond = _kdamond(module.parent.parent, 0, "on", ["pageout"], 0)
    with reclaim.host_reclaim("as-is"):
        assert (module / "page_reporting_order").read_text() == "9\n"
        assert (kdamond / "state").read_text() == "on\n"
    assert reclaim.reports_free_memory() and reclaim.reported_bytes() == 1024 * 1024


def test_no_module_and_no_damon_nothing_to_turn_off(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(reclaim, "MODULE", tmp_path / "absent")
    monkeypatch.setattr(reclaim, "REPORTED_KIB", tmp_path / "absent" / "reported_kib")
    monkeypatch.setattr(reclaim, "KDAMONDS", tmp_path / "absent" / "kdamonds")
    assert not reclaim.reports_free_memory() and reclaim.reported_bytes() is None
    assert reclaim.paging_out() == [] and reclaim.paged_out_bytes() is None
    with reclaim.host_reclaim("off"):
        pass


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="one of as-is, off"), reclaim.host_reclaim("on"):
        pass
