"""Texts too short for MinHash are grouped by their code-masked normalised text: a short-code
spam campaign and a slogan burst show up as groups instead of vanishing."""

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from detector.pipeline import scan

START = datetime(2025, 4, 1, 8, 0, 0)
SPAMMERS, SLOGAN_ACCOUNTS, CHEERERS, BYSTANDERS = 30, 500, 100, 200


def _code(rng: np.random.Generator) -> str:
    """A contact code mixing letters and digits, e.g. "ab12" or "V8x9k"."""
    letters = rng.choice(list("abcdefghkmnpqrstuvwxyzABCDEFGHKMNPQRSTUVWXYZ"), 3)
    digits = rng.choice(list("0123456789"), 2)
    return "".join(rng.permutation(np.concatenate([letters, digits])))


def _posts(rng: np.random.Generator) -> pl.DataFrame:
    """Spammers (accounts registered in one two-day batch) post "加V：<code> 领福利" with a
    new code 3 times in 4 hours; a slogan is posted once by each of 500 accounts over a day;
    100 accounts post "打卡" 3 times in 4 hours; bystanders post their own texts and pass on
    one of ten news texts. Everyone but the spammers signed up some time in ten years."""
    rows: list[tuple[str, datetime, str]] = []
    for a in range(SPAMMERS):
        for wave in range(3):
            minute = wave * 90 + int(rng.integers(0, 30))
            rows.append(
                (f"spam{a}", START + timedelta(minutes=minute), f"加V：{_code(rng)} 领福利")
            )
    for a in range(SLOGAN_ACCOUNTS):
        rows.append(
            (f"fan{a}", START + timedelta(minutes=int(rng.integers(0, 1440))), "小米加油！")
        )
    for a in range(CHEERERS):
        for wave in range(3):
            minute = wave * 90 + int(rng.integers(0, 30))
            rows.append((f"cheer{a}", START + timedelta(minutes=minute), "打卡😍"))
    news = ["".join(map(chr, rng.integers(0x4E00, 0x9FA5, 20))) for _ in range(10)]
    for a in range(BYSTANDERS):
        own = ["".join(map(chr, rng.integers(0x4E00, 0x9FA5, 12))) for _ in range(3)]
        for text in [*own, news[a % len(news)]]:
            rows.append((f"user{a}", START + timedelta(minutes=int(rng.integers(0, 2880))), text))
    frame = pl.DataFrame(rows, schema=["account_id", "created_at", "text"], orient="row")
    accounts = frame["account_id"].unique(maintain_order=True)
    batch = accounts.str.starts_with("spam").to_numpy()
    days = np.where(
        batch, rng.integers(0, 2, accounts.len()), rng.integers(60, 3650, accounts.len())
    )
    signed_up = pl.DataFrame(
        {"account_id": accounts, "signed_up": [START - timedelta(days=int(d)) for d in days]}
    )
    return frame.join(signed_up, on="account_id", maintain_order="left").select(
        pl.col("account_id"),
        post_id=pl.concat_str(pl.lit("p"), pl.int_range(pl.len()).cast(pl.String)),
        created_at=pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        text=pl.col("text"),
        account_created_at=pl.col("signed_up").dt.strftime("%Y-%m-%dT%H:%M:%S"),
    )


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("short") / "posts.csv"
    _posts(np.random.default_rng(3)).write_csv(path)
    return scan(path)


def _group(result, pattern: str) -> dict:
    groups = result.groups.filter(pl.col("example_text").str.contains(pattern))
    assert groups.height == 1, groups
    return groups.row(0, named=True)


def test_short_code_spam_is_one_group_of_its_accounts(result):
    group = _group(result, "领福利")
    assert group["n_accounts"] == SPAMMERS
    assert group["n_posts"] == group["n_texts"] == 3 * SPAMMERS
    spam = result.accounts.filter(pl.col("account_id").str.starts_with("spam"))
    assert spam["cluster_id"].n_unique() == 1 and spam["cluster_id"].is_not_null().all()
    assert spam["flagged"].all()


def test_one_shot_slogan_burst_is_a_group_but_not_flagged(result):
    group = _group(result, "小米加油")
    assert group["n_accounts"] == SLOGAN_ACCOUNTS
    fans = result.accounts.filter(pl.col("account_id").str.starts_with("fan"))
    assert not fans["flagged"].any()


def test_identical_short_phrase_is_a_group_but_links_nobody(result):
    assert _group(result, "打卡")["n_accounts"] == CHEERERS
    cheer = result.accounts.filter(pl.col("account_id").str.starts_with("cheer"))
    assert cheer["cluster_id"].is_null().all()


def test_summary_counts_short_posts_and_groups(result):
    summary = result.summary
    assert summary["posts_too_short"] == 3 * SPAMMERS + SLOGAN_ACCOUNTS + 3 * CHEERERS
    assert summary["short_text_groups"] == 3
    assert summary["near_duplicate_groups"] == 3 + 10


def test_short_text_grouping_can_be_switched_off(tmp_path):
    path = tmp_path / "posts.csv"
    _posts(np.random.default_rng(3)).write_csv(path)
    off = scan(path, group_short_texts=False)
    assert off.summary["short_text_groups"] == 0
    assert (
        off.groups.filter(pl.col("example_text").str.contains("领福利|小米加油|打卡")).height == 0
    )
