"""Column schemas of the tables a scan writes; the contract between the pipeline, the
report, the exports and anything downstream."""

from __future__ import annotations

import polars as pl

TIME = pl.Datetime("us", "UTC")

POSTS = pl.Schema(
    {
        "post_id": pl.String,
        "account_id": pl.String,
        "created_at": TIME,
        "group_id": pl.Int64,  # near-duplicate group shared by >= 2 accounts, else null
        "cluster_id": pl.Int64,  # cluster of the posting account, else null
    }
)

ACCOUNTS = pl.Schema(
    {
        "account_id": pl.String,
        "cluster_id": pl.Int64,
        "score": pl.Float64,  # the cluster's score; 0.0 outside clusters
        "flagged": pl.Boolean,
        "reasons": pl.String,  # the cluster's reasons joined by "; " ("" when none)
        "n_posts": pl.Int64,
        "account_created_at": TIME,  # null where the input does not say
    }
)

# Per-cluster features, each in [0, 1] (creation_concentration is null where unknown).
FEATURES = (
    "near_duplicate_density",  # share of the cluster's posts in near-duplicate groups
    "synchrony",  # share of co-posts that land within the window of another member's
    "repetition",  # how many distinct contents members co-post (saturating)
    "exclusivity",  # members' share of each content's posts, averaged over shared posts
    "creation_concentration",  # how bunched the members' account-creation dates are
    "content_diversity",  # distinct near-duplicate groups per shared post (spinning)
    "variant_ratio",  # distinct texts per post inside the shared groups (spun variants)
    "size",  # saturating function of the member count
)

CLUSTERS = pl.Schema(
    {
        "cluster_id": pl.Int64,
        "n_accounts": pl.Int64,
        "n_posts": pl.Int64,
        "n_groups": pl.Int64,  # distinct near-duplicate groups the members posted in
        "score": pl.Float64,
        "flagged": pl.Boolean,
        **{name: pl.Float64 for name in FEATURES},
        "reasons": pl.List(pl.String),
        "example_texts": pl.List(pl.String),
        "first_seen": TIME,
        "last_seen": TIME,
    }
)

GROUPS = pl.Schema(
    {
        "group_id": pl.Int64,
        "n_posts": pl.Int64,
        "n_accounts": pl.Int64,
        "n_texts": pl.Int64,  # distinct normalised texts in the group
        "cluster_id": pl.Int64,  # the cluster holding most of its accounts, else null
        "first_seen": TIME,
        "last_seen": TIME,
        "example_text": pl.String,
    }
)

EDGES = pl.Schema(
    {
        "source": pl.String,
        "target": pl.String,
        "weight": pl.Float64,
        "shared": pl.Int64,  # distinct contents (texts, urls, hashtags, reposts) co-posted
        "cluster_id": pl.Int64,  # both ends are in this cluster
    }
)

REJECTS = pl.Schema(
    {
        "file": pl.String,
        "row": pl.Int64,  # 1-based record number within the file (header excluded)
        "column": pl.String,
        "reason": pl.String,
        "raw": pl.String,  # the offending value or record, as far as it could be read
    }
)

TABLES = {
    "accounts": ACCOUNTS,
    "clusters": CLUSTERS,
    "posts": POSTS,
    "groups": GROUPS,
    "edges": EDGES,
    "rejects": REJECTS,
}
