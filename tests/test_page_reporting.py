"""Free page reporting turned off for a benchmark, and put back as it was found."""

from pathlib import Path

import pytest

from benchmarks import page_reporting as reporting

BUDDY = "Node 0, zone   Normal  23225  12109  10094  5301  5613  3384  418  9  5  1  1127\n"


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A page_reporting module's parameters and a buddy allocator of orders 0 to 10."""
    parameters = tmp_path / "page_reporting" / "parameters"
    parameters.mkdir(parents=True)
    (parameters / "page_reporting_order").write_text("9\n")
    (parameters / "reported_kib").write_text("1024\n")
    (tmp_path / "buddyinfo").write_text(BUDDY)
    monkeypatch.setattr(reporting, "MODULE", tmp_path / "page_reporting")
    monkeypatch.setattr(reporting, "ORDER", parameters / "page_reporting_order")
    monkeypatch.setattr(reporting, "REPORTED_KIB", parameters / "reported_kib")
    monkeypatch.setattr(reporting, "BUDDY_INFO", tmp_path / "buddyinfo")
    return parameters


def test_off_sets_an_order_no_block_reaches_and_puts_the_found_one_back(module: Path):
    order = module / "page_reporting_order"
    with reporting.page_reporting("off"):
        assert order.read_text() == "11\n"  # orders 0..10 in buddyinfo
    assert order.read_text() == "9\n"
    with pytest.raises(RuntimeError), reporting.page_reporting("off"):
        raise RuntimeError("a scan failed")
    assert order.read_text() == "9\n"


def test_as_is_leaves_the_machine_alone(module: Path):
    with reporting.page_reporting("as-is"):
        assert (module / "page_reporting_order").read_text() == "9\n"
    assert reporting.loaded() and reporting.reported_bytes() == 1024 * 1024


def test_no_module_no_reporting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(reporting, "MODULE", tmp_path / "absent")
    monkeypatch.setattr(reporting, "REPORTED_KIB", tmp_path / "absent" / "reported_kib")
    assert not reporting.loaded() and reporting.reported_bytes() is None
    with reporting.page_reporting("off"):  # nothing to turn off
        pass


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="one of as-is, off"), reporting.page_reporting("on"):
        pass
