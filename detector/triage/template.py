"""Example posts as templates: variants of one text aligned against it with difflib, so the
spots a spinner changed stand out. Chinese/Japanese compare character by character, other
scripts word by word."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

# One token per CJK character, word, run of spaces or other symbol.
TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+|\s+|.",
    re.DOTALL,
)
SAME_FAMILY = 0.5  # token similarity from which two examples count as variants of one text


@dataclass(frozen=True)
class Span:
    text: str
    differs: bool


@dataclass(frozen=True)
class Family:
    """A template text and its variants, each split into spans that do or do not differ.
    In the template a span differs when at least one variant changes or drops it."""

    template: list[Span]
    variants: list[list[Span]]


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def _matcher(a: list[str], b: list[str]) -> SequenceMatcher:
    return SequenceMatcher(None, a, b, autojunk=False)


def families(texts: list[str]) -> list[Family]:
    """Group example texts into families of variants and align each family against its
    template. The examples carry no counts, so the template is the family's medoid: the
    member most similar to all others, i.e. the text the variants were spun from."""
    split = [tokens(t) for t in texts]
    groups: list[list[int]] = []
    for i, toks in enumerate(split):
        home = next((g for g in groups if _matcher(split[g[0]], toks).ratio() >= SAME_FAMILY), None)
        if home is None:
            groups.append([i])
        else:
            home.append(i)
    return [_align([split[i] for i in group]) for group in groups]


def _align(members: list[list[str]]) -> Family:
    similarity = [sum(_matcher(a, b).ratio() for b in members if b is not a) for a in members]
    base = members[similarity.index(max(similarity))]
    changed = [False] * len(base)
    variants = []
    for other in members:
        if other is base:
            continue
        spans = []
        for op, a0, a1, b0, b1 in _matcher(base, other).get_opcodes():
            if op != "equal":
                changed[a0:a1] = [True] * (a1 - a0)
            if b1 > b0:
                spans.append(Span("".join(other[b0:b1]), op != "equal"))
        variants.append(_merge(spans))
    template = _merge([Span(tok, flag) for tok, flag in zip(base, changed, strict=True)])
    return Family(template=template, variants=variants)


def _merge(spans: list[Span]) -> list[Span]:
    """Join neighbouring spans of the same kind."""
    out: list[Span] = []
    for span in spans:
        if out and out[-1].differs == span.differs:
            out[-1] = Span(out[-1].text + span.text, span.differs)
        else:
            out.append(span)
    return out
