"""Text building blocks: vectorised composition from word pools, template spinning, and
the obfuscations evasive operators apply.

Composition and obfuscation are polars/pyarrow operations over whole columns; only the
spinning of a bounded pool of template variants runs in Python.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

_FIELDS = string.Formatter()
_BASE62 = np.frombuffer(
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8
)


def pick(rng: np.random.Generator, pool: Sequence[str], n: int) -> pl.Series:
    """``n`` uniform draws from ``pool`` as a string series."""
    return pl.Series(list(pool), dtype=pl.String).gather(rng.integers(0, len(pool), n))


def lists(values: pl.Series, counts: np.ndarray) -> pl.Series:
    """Cut ``values`` into consecutive lists of ``counts[i]`` items (a List[String] series)."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    array = pa.LargeListArray.from_arrays(pa.array(offsets), values.to_arrow())
    return pl.Series(values.name, array)


def compose(
    rng: np.random.Generator,
    n: int,
    patterns: Sequence[str],
    pools: dict[str, list[str]],
    choice: np.ndarray | None = None,
) -> pl.Series:
    """``n`` clauses, each a pattern (``"{time}{who}..."``; random unless ``choice`` gives
    its index) with every field drawn independently from the pool of that name."""
    if choice is None:
        choice = rng.integers(0, len(patterns), n)
    pieces = []
    for index, pattern in enumerate(patterns):
        rows = np.flatnonzero(choice == index)
        columns: dict[str, pl.Series] = {}
        exprs: list[pl.Expr] = []
        for literal, field, _, _ in _FIELDS.parse(pattern):
            if literal:
                exprs.append(pl.lit(literal))
            if field is not None:
                name = f"f{len(columns)}"
                columns[name] = pick(rng, pools[field], len(rows))
                exprs.append(pl.col(name))
        frame = pl.DataFrame({"row": rows, **columns})
        pieces.append(frame.select("row", pl.concat_str(exprs).alias("text")))
    return pl.concat(pieces).sort("row")["text"]


def compose_posts(
    rng: np.random.Generator,
    n: int,
    patterns: Sequence[str],
    pools: dict[str, list[str]],
    clauses: tuple[int, int],
    decay: float,
    joiner: str,
) -> pl.Series:
    """``n`` posts of ``clauses[0]..clauses[1]`` clauses each (P(k) ~ decay**k), joined."""
    ks = np.arange(clauses[0], clauses[1] + 1)
    weights = decay ** (ks - ks[0])
    counts = rng.choice(ks, n, p=weights / weights.sum())
    body = compose(rng, int(counts.sum()), patterns, pools)
    return lists(body, counts).list.join(joiner).str.strip_chars()


def decorate(
    rng: np.random.Generator, texts: pl.Series, pool: Sequence[str], share: float, front: bool
) -> pl.Series:
    """Put a random item of ``pool`` in front of / behind a ``share`` of ``texts``."""
    frame = pl.DataFrame(
        {"t": texts, "x": pick(rng, pool, len(texts)), "m": rng.random(len(texts)) < share}
    )
    extra = pl.when(pl.col("m")).then(pl.col("x")).otherwise(pl.lit(""))
    order = [extra, pl.col("t")] if front else [pl.col("t"), extra]
    return frame.select(pl.concat_str(order).alias(texts.name or "text")).to_series()


def short_links(rng: np.random.Generator, n: int, domains: Sequence[str], salt: int) -> pl.Series:
    """``n`` distinct short links (``https://bit.ly/Xy3kP0a``): codes are an affine bijection
    of the row number, so no two collide."""
    space = 62**7
    rows = np.arange(n, dtype=np.int64)
    values = (rows * 40_353_607_181 + salt) % space  # odd, not a multiple of 31: coprime
    digits = np.empty((n, 7), dtype=np.uint8)
    for i in range(7):
        digits[:, 6 - i] = _BASE62[values % 62]
        values //= 62
    frame = pl.DataFrame({"domain": pick(rng, domains, n), "code": digits.view("S7").ravel()})
    return frame.select(
        pl.concat_str(pl.lit("https://"), "domain", pl.lit("/"), pl.col("code").cast(pl.String))
    ).to_series()


class Spinner:
    """Spin a template the way "black manuscript" copywriting software does: swap words for
    synonyms, reorder sentences, insert filler, so variants stay near-duplicates."""

    def __init__(self, synonyms: Sequence[Sequence[str]]) -> None:
        self.alternatives = {w: [o for o in group if o != w] for group in synonyms for w in group}
        longest_first = sorted(self.alternatives, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, longest_first)))

    def swap(self, text: str, rnd: random.Random, probability: float) -> str:
        """``text`` with each synonym-set word replaced by another with ``probability``."""

        def replace(match: re.Match[str]) -> str:
            word = match.group()
            return rnd.choice(self.alternatives[word]) if rnd.random() < probability else word

        return self.pattern.sub(replace, text)

    def variant(
        self,
        sentences: Sequence[str],
        rnd: random.Random,
        probability: float,
        reorder: bool,
        filler: str | None,
    ) -> str:
        """One spun variant of a template given as its sentences."""
        spun = [self.swap(s, rnd, probability) for s in sentences]
        if reorder:
            rnd.shuffle(spun)
        if filler:
            spun.insert(rnd.randrange(len(spun) + 1), filler.rstrip("。"))
        ends = [rnd.choice("。。。！，") for _ in spun[:-1]] + [rnd.choice("。！")]
        return "".join(s + e for s, e in zip(spun, ends, strict=True))


def obfuscate(
    rng: np.random.Generator,
    texts: pl.Series,
    share: float,
    homoglyph_share: float,
    homoglyphs: dict[str, str],
    zero_width: Sequence[str],
) -> pl.Series:
    """Hide a ``share`` of ``texts`` from naive matching: Latin letters swapped for Cyrillic
    or Greek look-alikes, or a zero-width character after every two letters."""
    hit = np.flatnonzero(rng.random(len(texts)) < share)
    glyph = rng.random(len(hit)) < homoglyph_share
    invisible = rng.integers(0, len(zero_width), len(hit))
    out = texts.clone()
    rows = hit[glyph]
    out.scatter(
        rows, texts.gather(rows).str.replace_many(list(homoglyphs), list(homoglyphs.values()))
    )
    for index, char in enumerate(zero_width):
        rows = hit[~glyph & (invisible == index)]
        out.scatter(rows, texts.gather(rows).str.replace_all(r"(\p{L}{2})", "${1}" + char))
    return out
