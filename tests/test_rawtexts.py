"""Raw texts: a Parquet file's are read back from it at the rows the tables quote, the
others kept in the scan's store; either way the quoted texts are those the scan read."""

import os
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.config import ScanConfig
from detector.errors import DataError
from detector.ingest import iter_batches
from detector.pipeline import scan
from detector.rawtexts import RawTexts
from detector.spill import batch_store

DEMO = Path(__file__).parents[1] / "fixtures" / "demo.csv.gz"
TABLES = ("accounts", "clusters", "posts", "groups", "edges")

TEXTS = ["乐视电视 黑屏", "", None, "plain words here", "🔥 #tag https://x.co/a", "b\u200bad"]
TYPES = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "binary": pa.binary(),
    "dictionary": pa.dictionary(pa.int32(), pa.string()),
}


def _write_parquet(path: Path, n: int, kind: str, row_group: int) -> None:
    """``n`` posts, every fourth repeating an earlier post id (rejected as a duplicate),
    null texts kept on rows that repost; a binary column also holds invalid UTF-8."""
    texts = [TEXTS[i % len(TEXTS)] for i in range(n)]
    post_ids = [f"p{i - 1 if i % 4 == 3 else i}" for i in range(n)]
    if kind == "dictionary":
        text = pa.array(texts).dictionary_encode()
    else:
        text = pa.array(
            [t.encode() if t is not None and kind == "binary" else t for t in texts],
            TYPES[kind],
        )
        if kind == "binary":
            text = pa.array([b"\xff" if i % 7 == 6 else v for i, v in enumerate(text.to_pylist())])
    table = pa.table(
        {
            "post_id": post_ids,
            "account_id": [f"a{i % 5}" for i in range(n)],
            "created_at": [f"2025-01-01T00:00:{i % 60:02d}Z" for i in range(n)],
            "text": text,
            "repost_of": ["p0" if t is None else None for t in texts],
        }
    )
    pq.write_table(table, path, row_group_size=row_group)


def _kept(files: list[Path], config: ScanConfig, store) -> tuple[RawTexts, list[str]]:
    """Every batch of ``files`` kept in ``store`` as a scan keeps it; the texts read."""
    raw_texts = RawTexts(store, config)
    texts = []
    for batch in iter_batches(files, config):
        store.append(raw_texts.keep(batch, batch.posts))
        texts += batch.posts["text"].to_list()
    return raw_texts, texts


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(sorted(TYPES)),
    n=st.integers(1, 60),
    row_group=st.integers(1, 25),
    batch_rows=st.integers(1, 40),
    with_csv=st.booleans(),
    spilled=st.booleans(),
    picks=st.lists(st.integers(0, 10**6), max_size=80),
)
def test_any_rows_read_back_as_the_scan_read_them(
    tmp_path_factory, kind, n, row_group, batch_rows, with_csv, spilled, picks
):
    folder = tmp_path_factory.mktemp("texts")
    files = [folder / "a.parquet"]
    _write_parquet(files[0], n, kind, row_group)
    if with_csv:
        files.append(folder / "b.csv")
        files[1].write_text(
            "post_id,account_id,created_at,text\nc1,a1,2025-01-02,from csv\nc2,a2,2025-01-02,\n"
        )
    config = ScanConfig(batch_rows=batch_rows)
    with batch_store(1 if spilled else 1 << 30, folder) as store:
        raw_texts, texts = _kept(files, config, store)
        assert "text" not in store.schemas[0] and "record" in store.schemas[0]
        rows = np.array([p % len(texts) for p in picks], np.int64)
        assert raw_texts(rows).to_list() == [texts[r] for r in rows]
        assert store.spilled == spilled


def test_a_file_without_text_keeps_its_empty_texts_in_the_store(tmp_path):
    path = tmp_path / "reposts.parquet"
    pl.DataFrame(
        {"post_id": ["1", "2"], "account_id": ["a", "b"], "created_at": ["2025-01-01"] * 2,
         "repost_of": ["9", "9"]}
    ).write_parquet(path)  # fmt: skip
    with batch_store(1 << 30) as store:
        raw_texts, texts = _kept([path], ScanConfig(), store)
        assert "text" in store.schemas[0]
        assert raw_texts(np.array([1, 0])).to_list() == ["", ""] == texts


def test_a_file_changed_during_the_scan_is_an_error(tmp_path):
    path = tmp_path / "posts.parquet"
    _write_parquet(path, 10, "string", 4)
    with batch_store(1 << 30) as store:
        raw_texts, _ = _kept([path], ScanConfig(), store)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        with pytest.raises(DataError, match="changed while the scan ran") as error:
            raw_texts(np.array([0]))
        assert str(path) in error.value.one_line()


def test_a_parquet_scan_writes_the_same_tables_as_its_csv(tmp_path):
    """The demo as Parquet in many row groups, its texts quoted from the file, spilled and
    not: every table but the rejects (which name the file) equals the CSV scan's."""
    parquet = tmp_path / "demo.parquet"
    pl.read_csv(DEMO, infer_schema=False).write_parquet(parquet, row_group_size=2_000)
    options = {"batch_rows": 3_000, "write_graph": True}
    tables = {}
    for name, inputs, limit in [
        ("csv", DEMO, None),
        ("parquet", parquet, None),
        ("spilled", parquet, 1),
    ]:
        result = scan(inputs, memory_limit=limit, spill_dir=str(tmp_path), **options)
        result.save(tmp_path / name)
        tables[name] = {t: (tmp_path / name / f"{t}.parquet").read_bytes() for t in TABLES}
    assert result.summary["flagged_accounts"] > 0
    assert result.summary["engine"]["spilled_batches"] > 0
    assert tables["csv"] == tables["parquet"] == tables["spilled"]
