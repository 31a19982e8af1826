"""Copywriting software as the evasive families use it: articles drawn from the smear
sentences of ``black_manuscript.toml``, spun per post (synonyms swapped, sentences reordered
and dropped, filler added) and disguised against text matching (look-alike letters,
invisible characters, fullwidth forms, separators between Chinese characters).

Spinning runs in Python, one variant per post, because every post of these families is
its own rewording; the families post tens of thousands of them at most.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import numpy as np
import polars as pl

from detector.synth.scenarios import Scenario
from detector.synth.text import Spinner

_HAN_PAIR = re.compile(r"(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])")  # between two Chinese characters
_LETTER_PAIR = re.compile(r"(\w{2})")
_ASCII = range(0x21, 0x7F)


class Copywriter:
    """Writes and spins smear articles, and disguises the variants.

    ``manuscript``: ``black_manuscript.toml`` (sentences, slots, synonyms, fillers);
    ``evasion``: ``evasion.toml`` (look-alike letters, invisible characters);
    ``disguise``: the world's ``[disguise]`` (separators, fullwidth offset)."""

    def __init__(self, manuscript: Scenario, evasion: Scenario, disguise: Scenario) -> None:
        self.sentences = [s for group in manuscript["tactics"].values() for s in group]
        self.slots = manuscript["slots"]
        self.fillers = [f.rstrip("。") for f in manuscript["text"]["fillers"]]
        self.spinner = Spinner(manuscript["text"]["synonyms"])
        self.homoglyphs = str.maketrans(evasion["homoglyphs"])
        self.zero_width = list(evasion["zero_width"])
        self.gaps = list(disguise["gaps"])
        offset = disguise["fullwidth_offset"]
        self.fullwidth = str.maketrans({c: chr(c + offset) for c in _ASCII})

    def article(self, rnd: random.Random, sentences: Sequence[int]) -> list[str]:
        """A source article of ``sentences[0]..sentences[1]`` distinct sentences, its slots
        (car, phone, rival...) filled once."""
        fills = {slot: rnd.choice(values) for slot, values in self.slots.items()}
        k = rnd.randint(sentences[0], sentences[1])
        return [s.format(**fills) for s in rnd.sample(self.sentences, k)]

    def variants(
        self, rng: np.random.Generator, article: list[str], n: int, spin: Scenario, hide: Scenario
    ) -> pl.Series:
        """``n`` spun variants of ``article``, each disguised as ``hide`` says."""
        rnd = random.Random(int(rng.integers(2**62)))
        return pl.Series(
            [self.disguise(rnd, self.spin(rnd, article, spin), hide) for _ in range(n)],
            dtype=pl.String,
        )

    def spin(self, rnd: random.Random, article: list[str], spin: Scenario) -> str:
        """One rewording: synonyms swapped at a per-variant rate, sentences dropped (keeping
        ``min_sentences``) and reordered, a filler phrase inserted."""
        rate = rnd.uniform(*spin["swap_probability"])
        kept = [s for s in article if rnd.random() >= spin["drop_probability"]]
        if len(kept) < spin["min_sentences"]:
            kept = rnd.sample(article, min(spin["min_sentences"], len(article)))
        spun = [self.spinner.swap(s, rnd, rate) for s in kept]
        if rnd.random() < spin["reorder_share"]:
            rnd.shuffle(spun)
        if rnd.random() < spin["filler_share"]:
            spun.insert(rnd.randrange(len(spun) + 1), rnd.choice(self.fillers))
        ends = [rnd.choice("。。，！；") for _ in spun[:-1]] + [rnd.choice("。！")]
        return "".join(s + e for s, e in zip(spun, ends, strict=True))

    def disguise(self, rnd: random.Random, text: str, hide: Scenario) -> str:
        """``text`` with each trick applied at its share: look-alike letters, an invisible
        character after every two letters, fullwidth ASCII, separators between Chinese
        characters at a per-post rate."""
        if rnd.random() < hide["homoglyph_share"]:
            text = text.translate(self.homoglyphs)
        if rnd.random() < hide["fullwidth_share"]:
            text = text.translate(self.fullwidth)
        if rnd.random() < hide["gap_share"]:
            rate = rnd.uniform(*hide["gap_probability"])
            gap = self.gaps
            text = _HAN_PAIR.sub(lambda _: rnd.choice(gap) if rnd.random() < rate else "", text)
        if rnd.random() < hide["zero_width_share"]:
            text = _LETTER_PAIR.sub(r"\1" + rnd.choice(self.zero_width), text)
        return text
