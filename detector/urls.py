"""Normalise shared URLs so that one web page is one co-sharing object.

Co-URL traces link accounts that shared *the same link*; the same page, though, reaches a
dump in many spellings: ``https://www.site.com/a?utm_source=x``, ``http://Site.com/a/`` and
``site.com/a#top`` are one object. :func:`normalise_urls` rewrites every URL to one form:

* scheme and host are lower-cased; the ``http://`` or ``https://`` scheme and a leading
  ``www.`` are dropped (other schemes, e.g. ``ftp://``, are kept, lower-cased);
* the ``#fragment`` is dropped (it never reaches the server);
* tracking query parameters are removed: ``utm_*``, ``fbclid``, ``gclid``, ``dclid``,
  ``msclkid``, ``igshid``, ``mc_cid``, ``mc_eid``, ``ref_src``, ``ref_url``, ``spm``,
  ``share_source``, ``share_medium``, ``si``, ``_hsenc``, ``_hsmi``, ``yclid``, and ``s`` on
  ``twitter.com``/``x.com`` only (their share tag; elsewhere ``s`` is often a search term);
  names are matched without regard to case, and the other parameters keep their order and
  case;
* a ``?`` left with no parameter is dropped, and so is one trailing ``/`` of the path (not
  of ``//``, so that the result is a fixed point: normalising twice changes nothing);
* whitespace around the URL and around the query is trimmed; a URL left empty is dropped.

The path keeps its case (servers often treat it as case-sensitive). Shortened links
(:data:`SHORTENERS`: ``t.co``, ``bit.ly``, ``t.cn`` ...) are never expanded, since that would
need the network and accounts pushing one short link are co-sharing it anyway; apart from the
scheme, ``www.``, fragment and host case they are kept as they are (their path and query are
the key the shortener looks up, so no parameter or ``/`` is removed; only an empty ``?`` goes).

Everything is vectorised over the whole column (no Python per row), since ingest runs it on
every post of a scan.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pyarrow as pa

TRACKING = (
    "utm_[^=&]*",
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref_src",
    "ref_url",
    "spm",
    "share_source",
    "share_medium",
    "si",
    "_hsenc",
    "_hsmi",
    "yclid",
)
# Link shorteners (hosts, after ``www.`` is dropped): their URLs are opaque keys.
SHORTENERS = (
    "t.co",
    "bit.ly",
    "j.mp",
    "goo.gl",
    "tinyurl.com",
    "ow.ly",
    "buff.ly",
    "dlvr.it",
    "is.gd",
    "v.gd",
    "t.cn",
    "url.cn",
    "dwz.cn",
    "tiny.cc",
    "lnkd.in",
    "fb.me",
    "trib.al",
    "rebrand.ly",
    "cutt.ly",
    "rb.gy",
    "shorturl.at",
    "amzn.to",
    "wp.me",
)
# Hosts (lower-cased, scheme and user info gone, port allowed) told apart by the rules.
_SHORT_HOST = r"^(?:" + "|".join(map(re.escape, SHORTENERS)) + r")(?::\d*)?$"
_TWITTER_HOST = r"^(?:[^.]+\.)*(?:twitter|x)\.com(?::\d*)?$"
_HOST = r"^(?:[a-z][a-z0-9+.\-]*://)?(?:[^@]*@)?"
# Each parameter of a query written as ``&name=value&`` (ampersands doubled, see below).
# White space around a parameter is part of it (``?fbclid\t&`` is ``fbclid``), so that
# what trimming leaves is not a tracking parameter the second pass would remove.
_TRACKING_PARAM = r"(?i)&\s*(?:" + "|".join(TRACKING) + r")(?:=[^&]*)?\s*&"
_TWITTER_PARAM = r"(?i)&\s*s(?:=[^&]*)?\s*&"
# Unicode white space (what ``str.strip_chars()`` and regex ``\s`` take).
_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
# Leading whitespace, http(s) schemes and www. prefixes, however many and in any case.
_PREFIX = r"^(?:\s|(?i:https?://|www\.))+"
# Scheme (other than http(s), already gone) and host: everything before the path or query.
_HEAD = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://)?[^/?]*"


def normalise_urls(expr: pl.Expr) -> pl.Expr:
    """``expr`` (a List(String) of URLs) with each URL in its normal form and empty ones
    dropped; see the module docstring for the rules."""
    return expr.map_batches(_normalise_lists, return_dtype=pl.List(pl.String), is_elementwise=True)


def _normalise_lists(lists: pl.Series) -> pl.Series:
    """The lists' URLs are flattened into one column, normalised with one pass of each
    regex, and put back into their lists (polars' ``list.eval`` would recompute every
    intermediate each time it is used)."""
    lists = lists.cast(pl.List(pl.String))
    lengths = lists.list.len().fill_null(0).to_numpy()
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = lists.explode(empty_as_null=False, keep_nulls=False)
    clean = _normalise(flat)
    keep = clean.is_not_null() & (clean.str.len_bytes() > 0)
    kept = np.zeros(len(flat) + 1, dtype=np.int64)
    np.cumsum(keep.to_numpy(), out=kept[1:])
    values = clean.filter(keep).to_arrow().cast(pa.large_string())
    array = pa.LargeListArray.from_arrays(
        pa.array(kept[offsets]), values, mask=pa.array(lists.is_null().to_numpy())
    )
    return pl.Series(lists.name, array, dtype=pl.List(pl.String))


def _normalise(urls: pl.Series) -> pl.Series:
    """Each URL in its normal form ("" when nothing is left)."""
    url = urls.str.replace(r"(?s)#.*", "").str.strip_chars().str.replace(_PREFIX, "")
    head = url.str.extract(_HEAD, 0)
    parts = (
        url.str.slice(head.str.len_chars())
        .str.splitn("?", 2)
        .struct.rename_fields(["path", "query"])
        .struct.unnest()
        .with_columns(head=head)
    )
    head = pl.col("head").str.to_lowercase()
    # The host without the white space before its path or query (``x.com\t?s=1``), so
    # that its rules match it on the first pass as on the second.
    host = head.str.strip_chars_end().str.replace(_HOST, "")
    parts = parts.with_columns(
        head=head,
        short=host.str.contains(_SHORT_HOST),
        twitter=host.str.contains(_TWITTER_HOST),
    )
    # Doubling every ``&`` and wrapping the query in ``&`` gives each parameter its own
    # delimiters, so one regex pass removes adjacent tracking parameters too.
    wrapped = pl.concat_str(
        pl.lit("&"), pl.col("query").str.replace_all("&", "&&", literal=True), pl.lit("&")
    ).str.replace_all(_TRACKING_PARAM, "")
    wrapped = (
        pl.when("twitter").then(wrapped.str.replace_all(_TWITTER_PARAM, "")).otherwise(wrapped)
    )
    query = wrapped.str.replace_all("&&", "&", literal=True).str.strip_chars(_SPACE + "&")
    path = pl.concat_str("head", "path").str.strip_chars_end()
    # One trailing ``/`` (and the spaces before it) goes unless ``/`` or nothing would be left.
    cut = path.str.head(-1).str.strip_chars_end()
    body = (
        pl.when(path.str.ends_with("/") & (cut != "") & ~cut.str.ends_with("/"))
        .then(cut)
        .otherwise(path)
    )
    # Short links keep their path and query (but for spaces at the end of the path).
    return (
        parts.select(
            query=pl.when("short").then("query").otherwise(query).fill_null(""),
            body=pl.when("short").then(path).otherwise(body).fill_null(""),
        )
        .select(
            pl.when(pl.col("query") != "")
            .then(pl.concat_str("body", pl.lit("?"), "query"))
            .otherwise("body")
        )
        .to_series()
    )
