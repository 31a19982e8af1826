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

# Per-cluster features, each in [0, 1]; null where unknown (creation_concentration without
# creation dates, variant_ratio without text co-shares, co_share_speed with text only,
# source_concentration without reposts, replies or links whose source is known).
FEATURES = (
    "co_share_density",  # share of members' posts that co-share an object within its window
    "synchrony",  # share of co-shares within the window of another member sharing the object
    "repetition",  # how many distinct objects members co-share (saturating)
    "exclusivity",  # members' share of each object's shares, averaged over their co-shares
    "pair_recurrence",  # share of member pairs that co-shared two or more distinct objects
    "co_share_speed",  # how tightly members' shares of an object bunch, in windows (not text)
    "source_concentration",  # share of reposts/replies/links going to the top 3 sources
    "creation_concentration",  # how bunched the members' account-creation dates are
    "content_diversity",  # 1 - the largest object's share of the cluster's co-shares
    "variant_ratio",  # distinct texts per post inside the shared text groups (spun variants)
    "size",  # saturating function of the member count
    "text_share",  # share of the link weight inside the cluster from near-duplicate texts
    "rewording",  # share of members' text co-shares that are their own rewordings, spun groups
)

# One line per feature, for the report's legend and ``detector explain``.
FEATURE_LEGEND = {
    "co_share_density": "share of the members' posts that co-share an object with another "
    "account within its window (dedicated accounts post little else)",
    "synchrony": "share of co-shares landing within the window of another member sharing "
    "the same object",
    "repetition": "how many distinct objects a typical member co-shared (1 for a crowd "
    "reacting once, near 1.0 from about 6 on)",
    "exclusivity": "members' share of all shares of the objects they co-share (a slogan or a "
    "viral post is shared by a crowd far larger than the cluster)",
    "pair_recurrence": "share of linked member pairs that co-shared two or more distinct "
    "objects (the same pairs meeting again and again)",
    "co_share_speed": "how tightly members' shares of a repost, link or tag bunch within its "
    "window (a dashboard fires the network at once; fans react over hours)",
    "source_concentration": "share of the co-shared reposts, replies and links that point "
    "to the 3 most shared accounts or sites",
    "creation_concentration": "share of members whose accounts were created on days of mass "
    "sign-ups within the cluster",
    "content_diversity": "1 minus the largest object's share of the co-shares (a network "
    "pushes many objects, a crowd one)",
    "variant_ratio": "distinct texts per post inside the shared near-duplicate groups (spun "
    "rewordings rather than copies)",
    "size": "grows with the number of members (20 members: 0.63)",
    "text_share": "share of the links inside the cluster that come from near-duplicate texts "
    "(the rest: reposts, replies, links, tags, mentions)",
    "rewording": "share of the members' shared texts that are their own rewordings in a spun "
    "group (many distinct rewordings of one long text: copywriting software's output)",
}

CLUSTERS = pl.Schema(
    {
        "cluster_id": pl.Int64,
        "n_accounts": pl.Int64,
        "n_posts": pl.Int64,
        "n_groups": pl.Int64,  # distinct near-duplicate groups the members posted in
        "n_objects": pl.Int64,  # distinct objects of any trace the members co-shared
        "traces": pl.List(pl.String),  # traces holding the cluster together, strongest first
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

# One row per account pair and trace (source < target by account number).
EDGES = pl.Schema(
    {
        "source": pl.String,
        "target": pl.String,
        "trace": pl.String,  # text, repost, reply, url, hashtag or mention
        "shared": pl.Int64,  # distinct objects both accounts shared within the trace's window
        "co_posts": pl.Int64,  # the toolkit's weight: max over the two of posts co-shared
        "weight": pl.Float64,  # IDF-weighted, less what chance co-sharing explains (>= 0)
        "gap_min_s": pl.Int64,  # smallest time between the two accounts' posts of an object
        "gap_median_s": pl.Float64,  # median over the shared objects of that smallest gap
        "objects": pl.List(pl.String),  # a few of the shared objects (ids, URLs, tags, texts)
        "cluster_id": pl.Int64,  # both ends are in this cluster, else null
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
