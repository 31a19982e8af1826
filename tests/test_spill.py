"""Bounded memory: posts past --memory-limit are spilled to disk, the answer does not change,
the spill folder is gone however the scan ends, and what a stage no longer needs is freed."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import detector.coordination
import detector.posts
import detector.spill
from detector.cli import main
from detector.config import ScanConfig, parse_size
from detector.errors import EXIT_INTERRUPTED, EXIT_OUTPUT, EXIT_USAGE, OutputError, UsageError
from detector.pipeline import scan
from detector.spill import (
    AppendedRows,
    BatchStore,
    batch_store,
    default_memory_limit,
    join_columns,
    mapped,
)

DEMO = Path(__file__).parents[1] / "fixtures" / "demo.csv.gz"
TABLES = ("accounts", "clusters", "posts", "groups", "edges", "rejects")


@pytest.mark.parametrize(
    ("text", "size"),
    [("500M", 500 << 20), ("4G", 4 << 30), ("1.5g", 3 << 29), ("2GiB", 2 << 30), ("4096", 4096)],
)
def test_sizes_are_read_in_binary_units(text, size):
    assert parse_size(text) == size
    assert ScanConfig.from_options(memory_limit=text).memory_limit == size


@pytest.mark.parametrize("text", ["lots", "4X", "-1G", "0", ""])
def test_a_bad_size_is_a_usage_error(text):
    with pytest.raises(UsageError):
        parse_size(text)


def test_the_default_budget_is_a_share_of_the_machine():
    assert 0 < default_memory_limit() < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def batches():
    rng = np.random.default_rng(3)
    for b in range(5):
        n = 100 + b
        yield pl.DataFrame(
            {
                "x": rng.integers(0, 1000, n),
                "text": [f"post {b}-{i} " + "é" * (i % 7) for i in range(n)],
                **({"urls": [[f"u{i}"] for i in range(n)]} if b % 2 else {}),
            }
        )


@pytest.mark.parametrize("limit", [1 << 30, 1])
def test_store_reads_back_and_parks_what_it_was_given(tmp_path, limit):
    frames = list(batches())
    whole = pl.concat(frames, how="diagonal_relaxed")
    with batch_store(limit, tmp_path) as store:
        for frame in frames:
            store.append(frame)
        assert store.spilled == (limit == 1)
        assert store.names() == ["x", "text", "urls"]
        for name in store.names():
            assert store.column(name).equals(whole[name])
        rows = np.array([503, 0, 7, 7, 250, 101])
        assert store.gather("text", rows).to_list() == whole["text"].gather(rows).to_list()
        before = len(list(tmp_path.rglob("*")))
        assert store.pop(["x"]).equals(whole.select("x"))
        store.settle()
        on_disk = len(list(tmp_path.rglob("*")))
        assert on_disk == before - len(store.files)  # each spilled batch's file of x
        back = store.park(whole)  # on disk once spilled, written behind
        arrays_back = store.park_arrays({"x": whole["x"].to_numpy(), "n": np.arange(3)})
        store.settle()
        assert len(list(tmp_path.rglob("*"))) == on_disk + 3 * store.spilled
        assert back().equals(whole)
        arrays = arrays_back()
        assert arrays["x"].tolist() == whole["x"].to_list() and arrays["n"].tolist() == [0, 1, 2]
        store.settle()
        assert len(list(tmp_path.rglob("*"))) == on_disk  # read back once, then deleted
    assert list(tmp_path.iterdir()) == []


def test_a_batch_that_cannot_be_written_fails_when_read(tmp_path):
    frames = list(batches())
    store = BatchStore(1, tmp_path)
    store.append(frames[0])  # spilled, written behind
    assert store.column("x").equals(frames[0]["x"])
    shutil.rmtree(store.folder)
    store.append(frames[1])
    with pytest.raises(OutputError, match="cannot spill to disk"):
        store.column("x")
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_a_parked_value_that_cannot_be_written_fails_when_asked_back(tmp_path):
    store = BatchStore(1, tmp_path)
    store.append(next(batches()))  # spilled: the budget is one byte
    store.column("x")  # read back once written behind: no write left to race the removal
    shutil.rmtree(store.folder)
    back = store.park_arrays({"x": np.arange(5)})
    with pytest.raises(OutputError, match="cannot spill to disk"):
        back()
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_store_spills_only_past_the_budget(tmp_path):
    frames = list(batches())
    store = BatchStore(frames[0].estimated_size() + frames[1].estimated_size(), tmp_path)
    store.append(frames[0])
    store.append(frames[1])
    assert not store.spilled and not list(tmp_path.iterdir())
    store.append(frames[2])  # written behind, read back once written
    assert store.spilled and len(store.files) == 3
    assert store.column("x").equals(pl.concat([f["x"] for f in frames[:3]]))
    assert len(list(next(tmp_path.iterdir()).iterdir())) == sum(f.width for f in frames[:3])
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_a_spilled_column_is_read_back_from_its_own_files(tmp_path):
    """Reading a column back reads none of the others' bytes (the system's read-ahead
    would pull in the raw texts written beside it): without the texts' files, every
    other column still comes back whole."""
    frames = list(batches())
    store = BatchStore(1, tmp_path)
    for frame in frames:
        store.append(frame)
    store.column("x")  # every batch written
    for files in store.files:
        files["text"].unlink()
    assert store.pop(["x", "urls"]).equals(pl.concat(frames, how="diagonal").select("x", "urls"))
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_bytes_held_elsewhere_count_against_the_budget(tmp_path):
    frames = list(batches())
    store = BatchStore(frames[0].estimated_size() + frames[1].estimated_size(), tmp_path)
    store.append(frames[0])
    assert store.spills(frames[1], elsewhere=1)
    store.append(frames[1], elsewhere=1)
    assert store.spilled
    store.close()


@given(
    rows=st.integers(0, 40),
    width=st.integers(1, 30),
    start=st.integers(-50, 50),
    stop=st.integers(-50, 50) | st.none(),
)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_rows_on_disk_read_back_as_slices_of_the_array(tmp_path, rows, width, start, stop):
    array = np.arange(rows * width, dtype=np.uint32).reshape(rows, width) * 2654435761
    with batch_store(1, tmp_path) as store:
        spilled = store.spill_rows(array)
        assert spilled.shape == array.shape
        np.testing.assert_array_equal(spilled[start:stop], array[start:stop].reshape(-1, width))


@given(rows=st.lists(st.integers(0, 3 * 40 - 1), max_size=30))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize("sparse_bytes", [0, 1 << 16])
def test_spilled_chunked_batches_gather_any_rows(tmp_path, monkeypatch, sparse_bytes, rows):
    """Rows in any order, repeats included, gathered from spilled batches whose columns
    come in several chunks, each record batch read on its own, at random
    (``SPARSE_BYTES`` 0: always) or read ahead."""
    monkeypatch.setattr(detector.spill, "SPARSE_BYTES", sparse_bytes)
    frames = [
        pl.concat(
            [pl.DataFrame({"text": [f"b{b} r{i}" + "字" * (i % 5) for i in range(lo, lo + 10)]})
             for lo in range(0, 40, 10)],
            rechunk=False,
        )
        for b in range(3)
    ]  # fmt: skip
    assert frames[0]["text"].n_chunks() == 4
    whole = pl.concat(frames)
    with batch_store(1, tmp_path) as store:
        for frame in frames:
            store.append(frame)
        taken = np.array(rows, np.int64)
        assert store.gather("text", taken).to_list() == whole["text"].gather(taken).to_list()


@given(
    blocks=st.lists(st.integers(0, 9), max_size=8),
    spill_after=st.integers(0, 8) | st.none(),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize("read_block", [7, 64 << 20])
def test_appended_rows_read_back_as_one_array(
    tmp_path, monkeypatch, read_block, blocks, spill_after
):
    """Blocks appended in memory, spilled midway (``spill_after`` blocks) or never, come
    back as their concatenation, mapped from the file or read into memory (by threads a
    range of ``READ_BLOCK`` bytes each); once spilled, nothing stays in memory."""
    monkeypatch.setattr(detector.spill, "READ_BLOCK", read_block)
    rng = np.random.default_rng(len(blocks))
    arrays = [rng.integers(0, 256, (rows, 5), dtype=np.uint8) for rows in blocks]
    with batch_store(1, tmp_path) as store:
        rows = AppendedRows()
        for k, array in enumerate(arrays):
            if k == spill_after:
                rows.spill(store)
            rows.append(array)
        if spill_after == len(arrays):
            rows.spill(store)
        if spill_after is not None and spill_after <= len(arrays):
            assert rows.resident_bytes() == 0
        expected = np.concatenate(arrays) if arrays else np.zeros((0, 0), np.uint8)
        read = rows.array(in_memory=True)
        np.testing.assert_array_equal(read, expected)
        assert not mapped(read)
        np.testing.assert_array_equal(rows.array(), expected)


def test_appended_rows_that_cannot_be_written_fail_when_read(tmp_path):
    """Spilled blocks are written behind: a failure to write them is raised, as one
    line, when the array is read back."""
    store = BatchStore(1, tmp_path)
    rows = AppendedRows()
    rows.append(np.zeros((3, 4), np.uint8))
    rows.spill(store)
    assert rows.array().shape == (3, 4)  # written
    shutil.rmtree(store.folder)
    rows.append(np.ones((2, 4), np.uint8))
    with pytest.raises(OutputError, match="cannot spill to disk"):
        rows.array()
    store.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("limit", [None, 1 << 30, 100])
def test_joined_columns_go_to_disk_past_the_budget(tmp_path, limit):
    parts = [[np.arange(k, k + 10), np.full(10, k / 2)] for k in range(0, 50, 10)]
    with batch_store(limit or 1, tmp_path) as store:
        columns = join_columns(parts, store if limit else None)
        np.testing.assert_array_equal(columns[0], np.arange(50))
        np.testing.assert_array_equal(columns[1], np.repeat(np.arange(0, 50, 10) / 2, 10))
        on_disk = limit == 100  # passed after the second part: the rest follows it there
        assert [mapped(c) for c in columns] == [on_disk, on_disk]
        assert store.spilled_bytes == (sum(c.nbytes for c in columns) if on_disk else 0)
        store.limit = 1  # the scan passes its budget: parking writes what is in memory
        store.append(next(batches()))
        parked = store.park_arrays({"joined": columns[0], "fresh": np.arange(3)})
        store.settle()
        assert len(list(store.folder.glob("parked-*"))) == 1 + (not on_disk)
        back = parked()
        store.settle()
        assert list(store.folder.glob("parked-*")) == []  # read back once, then deleted
        assert back["joined"] is columns[0] if on_disk else back["joined"] is not columns[0]
        np.testing.assert_array_equal(back["joined"], np.arange(50))


def test_the_traces_are_freed_once_the_graph_is_built(monkeypatch):
    """The scan hands its traces over to the clusterer, which drops them after the graph:
    no reference is left while the communities are found."""
    seen = {}
    concat = detector.posts.concat_traces
    adjacency = detector.coordination.symmetric_adjacency

    def tracked(parts):
        traces = concat(parts)
        seen["traces"] = weakref.ref(traces)
        return traces

    def check(graph):
        seen["alive"] = seen["traces"]() is not None
        return adjacency(graph)

    monkeypatch.setattr(detector.posts, "concat_traces", tracked)
    monkeypatch.setattr(detector.coordination, "symmetric_adjacency", check)
    scan(DEMO)
    assert seen["alive"] is False


def save(result, folder: Path) -> dict[str, bytes]:
    result.save(folder)
    return {name: (folder / f"{name}.parquet").read_bytes() for name in TABLES}


def test_spilled_scan_writes_the_same_tables_byte_for_byte(tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    # The whole graph written: its edges, spilled and mapped, outlive the spill folder.
    kept = scan(DEMO, batch_rows=3_000, write_graph=True)
    spilled = scan(DEMO, batch_rows=3_000, memory_limit=1, spill_dir=str(spill), write_graph=True)
    assert kept.summary["engine"]["spilled_batches"] == 0
    assert spilled.summary["engine"]["spilled_batches"] == 14
    assert spilled.summary["flagged_accounts"] > 0
    assert save(kept, tmp_path / "kept") == save(spilled, tmp_path / "spilled")
    assert list(spill.iterdir()) == []


def test_spill_folder_is_removed_on_error(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        assert len(list(tmp_path.iterdir())) == 1  # the spill folder, in use
        raise RuntimeError("boom")

    monkeypatch.setattr(detector.pipeline, "find_clusters", fail)
    with pytest.raises(RuntimeError, match="boom"):
        scan(DEMO, batch_rows=10_000, memory_limit=1, spill_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_spill_folder_is_removed_on_ctrl_c(tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    command = [
        sys.executable, "-c", "from detector.cli import main; main()",
        "scan", str(DEMO), "--out", str(tmp_path / "out"), "--quiet",
        "--batch-rows", "200", "--memory-limit", "1", "--spill-dir", str(spill),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    process = subprocess.Popen(
        command,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a foreground job has it, also where the tests run in the background
        # (a shell without job control starts background jobs with Ctrl-C ignored).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not any(any(p.glob("*.arrow")) for p in spill.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == EXIT_INTERRUPTED
    assert "interrupted" in process.stderr.read()
    assert list(spill.iterdir()) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("moment", ["folder made", "writer started"])
def test_ctrl_c_as_the_spill_folder_or_its_writer_starts_leaves_nothing(
    tmp_path, monkeypatch, moment
):
    """Ctrl-C lands between two lines of Python: right after the spill folder is made, or
    as the thread that writes into it starts (slow to write here). Either way the folder
    and the thread are gone once the store is closed."""
    make_folder, start_thread, write = os.mkdir, threading.Thread.start, detector.spill._write_batch

    def made(path, *args):
        make_folder(path, *args)
        if moment == "folder made" and "detector-spill-" in str(path):
            raise KeyboardInterrupt

    def started(thread):
        start_thread(thread)
        if moment == "writer started" and thread.name.startswith("spill-"):
            raise KeyboardInterrupt

    def slowly(frame, stem):
        time.sleep(0.2)
        write(frame, stem)

    monkeypatch.setattr(os, "mkdir", made)
    monkeypatch.setattr(threading.Thread, "start", started)
    monkeypatch.setattr(detector.spill, "_write_batch", slowly)
    with pytest.raises(KeyboardInterrupt), batch_store(1, tmp_path) as store:
        store.append(pl.DataFrame({"post_id": ["a", "b"]}))
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("spill-")]


def test_cli_spills_next_to_out_by_default(tmp_path):
    result = CliRunner().invoke(
        main,
        ["scan", str(DEMO), "--out", str(tmp_path / "out"), "--quiet", "--memory-limit", "1"],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_cli_missing_spill_dir_is_one_line_before_reading(tmp_path):
    result = CliRunner().invoke(
        main, ["scan", str(DEMO), "--out", str(tmp_path / "out"), "--spill-dir", "nowhere"]
    )
    assert result.exit_code == EXIT_OUTPUT
    assert result.output.strip().splitlines() == [
        "detector: error: nowhere: spill folder does not exist or is not a folder"
    ]


def test_cli_bad_memory_limit_is_one_line(tmp_path):
    result = CliRunner().invoke(
        main, ["scan", str(DEMO), "--out", str(tmp_path / "out"), "--memory-limit", "lots"]
    )
    assert result.exit_code == EXIT_USAGE
    assert result.output.strip().splitlines() == [
        "detector: error: cannot read memory size 'lots': use e.g. 500M, 4G or 1.5G"
    ]


@pytest.mark.parametrize("limit", [None, 1])
def test_accounts_are_numbered_in_account_id_order(tmp_path, limit):
    ids = ["b", "a", "ab", "B", "é", "10", "9", "a", "Z", "€", "b"]
    dump = pl.DataFrame(
        {
            "account_id": ids,
            "post_id": [f"p{i}" for i in range(len(ids))],
            "created_at": [f"2024-01-01T00:00:{i:02d}Z" for i in range(len(ids))],
            "text": [f"text {i}" for i in range(len(ids))],
            "account_created_at": [None, "2020-01-02", None, None, None, None, None,
                                   "2020-01-01", None, None, "2019-05-05"],
        }
    )  # fmt: skip
    dump.write_csv(tmp_path / "dump.csv")
    result = scan(tmp_path / "dump.csv", batch_rows=3, memory_limit=limit, spill_dir=str(tmp_path))
    assert result.accounts["account_id"].to_list() == sorted(set(ids), key=str.encode)
    created = dict(zip(*result.accounts.select("account_id", "account_created_at"), strict=True))
    assert str(created["a"].date()) == "2020-01-01" and str(created["b"].date()) == "2019-05-05"
    assert created["Z"] is None
    assert result.accounts["n_posts"].sum() == len(ids)
    posts = result.posts.sort(pl.col("post_id").str.slice(1).cast(pl.Int64))
    assert posts["account_id"].to_list() == ids


def test_a_killed_scans_spill_folder_is_removed_by_the_next(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    prefix = f"detector-spill-{socket.gethostname()}@"
    orphan = tmp_path / f"{prefix}{gone.pid}-abc"
    running = tmp_path / f"{prefix}{os.getpid()}-def"
    elsewhere = tmp_path / f"detector-spill-{socket.gethostname()}-1@{gone.pid}-ghi"
    for folder in (orphan, running, elsewhere):
        folder.mkdir()
        (folder / "batch-000000.arrow").write_bytes(b"spilled")
    scan(DEMO, batch_rows=10_000, memory_limit=1, spill_dir=str(tmp_path))
    assert sorted(tmp_path.iterdir()) == sorted([running, elsewhere])
