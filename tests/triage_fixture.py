"""A realistic scan result for the triage tests, built by hand so they do not depend on the
pipeline: a flagged campaign (batch-created accounts, spun Chinese variants, waves), a small
flagged English ring, a large unflagged authentic burst (one slogan, old accounts), an
uncluttered burst with no cluster, filler clusters for paging, and hostile texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from detector.result import ScanResult
from detector.schema import ACCOUNTS, CLUSTERS, EDGES, FEATURES, GROUPS, POSTS, REJECTS

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
HOSTILE = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'

CAMPAIGN_TEXTS = [
    "小米汽车的刹车系统有严重问题，千万不要买！",
    "小米汽车的刹车系统有大问题，千万别买！",
    "小米汽车刹车系统有严重问题，大家千万不要买！",
    "小米汽车的制动系统有严重问题，千万不要买啊！",
    "雷军又在骗人了，这车根本不安全",
    "退订小米汽车的人越来越多了",
    "Xiaomi SU7 brakes failed again, do not buy",
]
CAMPAIGN_REASONS = [
    "repetition: its 60 accounts each co-posted a median of 6 distinct contents with other "
    "accounts",
    "batch creation: 100% of accounts were created on 2 days with mass sign-ups",
    "spun variants: 71% of the 420 shared posts are rewordings of one another, not copies",
    "synchrony: 88% of shared posts came within 12 h of another member posting the same content",
]
RING_REASONS = [
    "repetition: its 6 accounts each co-posted a median of 4 distinct contents with other accounts",
    "synchrony: 90% of shared posts came within 12 h of another member posting the same content",
    "account creation dates are not in the input",
]
BURST_REASONS = [  # an unflagged cluster lists what cleared it first
    "low repetition: members co-posted a median of only 1 distinct contents, as an authentic "
    "crowd reacting once does",
    "account creation dates are spread out (only 0% on mass sign-up days)",
    "shared posts are mostly identical copies (100%), not spun rewordings",
]
SLOGAN = "#StandWithHongKong 守护香港，我们与你同在"


class _Builder:
    def __init__(self) -> None:
        self.rng = np.random.default_rng(7)
        self.accounts: dict[str, dict] = {}
        self.posts: list[dict] = []
        self.cluster_posts: dict[int | None, list[dict]] = {}
        self.clusters: list[dict] = []
        self.groups: list[dict] = []
        self.edges: list[dict] = []

    def cluster(self, cid: int, members: list[str], score: float, flagged: bool, **row) -> None:
        posts = self.cluster_posts[cid]
        features = {name: row.pop(name, 0.3) for name in FEATURES}
        times = [p["created_at"] for p in posts]
        self.clusters.append(
            {
                "cluster_id": cid,
                "n_accounts": len(members),
                "n_posts": len(posts),
                "n_groups": len({p["group_id"] for p in posts if p["group_id"] is not None}),
                "n_objects": len({p["group_id"] for p in posts if p["group_id"] is not None}),
                "traces": ["text"],
                "score": score,
                "flagged": flagged,
                **features,
                "first_seen": min(times),
                "last_seen": max(times),
                **row,
            }
        )
        for account in members:
            self.accounts[account].update(
                cluster_id=cid, score=score, flagged=flagged, reasons="; ".join(row["reasons"])
            )

    def account(self, account_id: str, created: datetime | None) -> str:
        self.accounts[account_id] = {
            "account_id": account_id,
            "cluster_id": None,
            "score": 0.0,
            "flagged": False,
            "reasons": "",
            "account_created_at": created,
        }
        return account_id

    def post(self, account: str, at: datetime, group: int | None, cid: int | None) -> None:
        post = {
            "post_id": f"p{len(self.posts)}",
            "account_id": account,
            "created_at": at,
            "group_id": group,
            "cluster_id": cid,
        }
        self.posts.append(post)
        self.cluster_posts.setdefault(cid, []).append(post)

    def group(self, gid: int, cid: int | None, n_texts: int, text: str) -> None:
        posts = [p for p in self.posts if p["group_id"] == gid]
        self.groups.append(
            {
                "group_id": gid,
                "n_posts": len(posts),
                "n_accounts": len({p["account_id"] for p in posts}),
                "n_texts": n_texts,
                "cluster_id": cid,
                "first_seen": min(p["created_at"] for p in posts),
                "last_seen": max(p["created_at"] for p in posts),
                "example_text": text,
            }
        )

    def link(self, members: list[str], cid: int, per_node: int) -> None:
        seen = set()
        for i, source in enumerate(members):
            for k in range(1, per_node + 1):
                target = members[(i + k * 7) % len(members)]
                key = tuple(sorted((source, target)))
                if source != target and key not in seen:
                    seen.add(key)
                    shared = int(self.rng.integers(2, 9))
                    self.edges.append(
                        {
                            "source": key[0],
                            "target": key[1],
                            "trace": "text",
                            "shared": shared,
                            "co_posts": shared,
                            "weight": round(shared / 8, 4),
                            "gap_min_s": 60,
                            "gap_median_s": 600.0,
                            "objects": [],
                            "cluster_id": cid,
                        }
                    )


def make_result(filler: int = 0) -> ScanResult:
    """The fixture scan; ``filler`` adds that many small clusters (alternately flagged) to
    exercise paging and the cap on fully rendered clusters."""
    b = _Builder()

    # Cluster 1: the campaign. Two sign-up days, three waves, five groups of spun texts.
    campaign = [
        b.account(f"xm_fan_{i:03d}", datetime(2024, 2, 10 + 5 * (i % 2), 3, i % 50, tzinfo=UTC))
        for i in range(60)
    ]
    for wave in range(3):
        for i, account in enumerate(campaign):
            for g in range(5):
                if (i + g + wave) % 2 == 0:
                    at = T0 + timedelta(days=wave, hours=2, minutes=(i * 7 + g * 3) % 90)
                    b.post(account, at, g + 1, 1)
    gid = 5
    b.cluster(
        1,
        campaign,
        0.86,
        True,
        reasons=CAMPAIGN_REASONS,
        example_texts=CAMPAIGN_TEXTS,
        co_share_density=0.95,
        synchrony=0.88,
        repetition=0.9,
        creation_concentration=1.0,
        content_diversity=0.78,
        variant_ratio=0.71,
        size=0.95,
    )
    for g in range(1, 6):
        b.group(g, 1, 4 if g == 1 else 1, CAMPAIGN_TEXTS[0 if g == 1 else g + 1])
    b.link(campaign, 1, 5)

    # Cluster 2: a small English ring, creation dates unknown, one hostile post.
    ring = [b.account(f"ring<b>{i}</b>", None) for i in range(6)]
    for i, account in enumerate(ring):
        for g in (6, 7):
            b.post(account, T0 + timedelta(days=4, minutes=10 * i + g), g, 2)
    gid = 7
    b.cluster(
        2,
        ring,
        0.62,
        True,
        reasons=RING_REASONS,
        example_texts=[
            "Vote NO on measure 12, it will raise your taxes!",
            "Vote NO on measure 12, it will double your taxes!!",
            HOSTILE,
        ],
        synchrony=0.9,
        repetition=0.7,
        creation_concentration=None,
    )
    b.group(6, 2, 2, "Vote NO on measure 12, it will raise your taxes!")
    b.group(7, 2, 1, HOSTILE)
    b.link(ring, 2, 2)

    # Cluster 3: an authentic burst. Old accounts, one identical slogan within two hours.
    gid += 1
    crowd = [
        b.account(f"hk_citizen_{i:03d}", datetime(2012 + i % 10, 1 + i % 12, 1, tzinfo=UTC))
        for i in range(80)
    ]
    for i, account in enumerate(crowd):
        b.post(account, T0 + timedelta(days=6, minutes=i), gid, 3)
        b.post(account, T0 + timedelta(days=i % 9, hours=i % 24), None, 3)
    b.cluster(
        3,
        crowd,
        0.21,
        False,
        reasons=BURST_REASONS,
        example_texts=[SLOGAN],
        co_share_density=0.5,
        synchrony=0.97,
        repetition=0.0,
        creation_concentration=0.0,
        content_diversity=0.0,
        variant_ratio=0.0,
        size=0.98,
    )
    b.group(gid, 3, 1, SLOGAN)
    b.link(crowd, 3, 1)

    # Unclustered accounts sharing one text once: a near-duplicate group with no cluster.
    gid += 1
    for i in range(40):
        account = b.account(f"user_{i:03d}", datetime(2015, 6, 1 + i % 28, tzinfo=UTC))
        b.post(account, T0 + timedelta(days=7, minutes=3 * i), gid, None)
        b.post(account, T0 + timedelta(days=i % 8), None, None)
    b.group(gid, None, 3, "RIP 李文亮医生 🕯️")

    for k in range(filler):
        cid = 4 + k
        members = [b.account(f"filler_{cid}_{i}", T0 - timedelta(days=400 + k)) for i in range(5)]
        for i, account in enumerate(members):
            b.post(account, T0 + timedelta(hours=k % 48, minutes=i), None, cid)
        flagged = k % 2 == 0
        b.cluster(
            cid,
            members,
            round(0.5 + 0.3 * (k % 10) / 10, 4) if flagged else round(0.05 + (k % 40) / 100, 4),
            flagged,
            reasons=[f"filler reason {cid}"],
            example_texts=[f"filler text {cid}"],
        )
        b.link(members, cid, 2)

    return _result(b)


def _result(b: _Builder) -> ScanResult:
    posts = pl.DataFrame(b.posts, schema=POSTS)
    n_posts = posts.group_by("account_id").len("n_posts")
    accounts = (
        pl.DataFrame(
            list(b.accounts.values()), schema={k: v for k, v in ACCOUNTS.items() if k != "n_posts"}
        )
        .join(n_posts, on="account_id", how="left")
        .with_columns(pl.col("n_posts").fill_null(0))
        .select(ACCOUNTS.names())
        .cast(ACCOUNTS)
    )
    clusters = pl.DataFrame(b.clusters, schema=CLUSTERS).sort("cluster_id")
    rejects = pl.DataFrame(
        [
            {
                "file": "dump.csv",
                "row": 17,
                "column": "created_at",
                "reason": "bad time",
                "raw": "x",
            },
            {"file": "dump.csv", "row": 90, "column": "text", "reason": "empty text", "raw": ""},
        ],
        schema=REJECTS,
    )
    summary = {
        "rows_read": posts.height + rejects.height,
        "rows_rejected": rejects.height,
        "rows_scanned": posts.height,
        "accounts": accounts.height,
        "clusters": clusters.height,
        "flagged_clusters": int(clusters["flagged"].sum()),
        "flagged_accounts": int(accounts["flagged"].sum()),
        "first_seen": posts["created_at"].min().isoformat(),
        "last_seen": posts["created_at"].max().isoformat(),
        "stages": {"ingest": {"seconds": 1.2, "peak_rss_mb": 210.0}},
        "version": "0.1.0",
        "config": {"flag_threshold": 0.5, "min_repeat": 2, "window_seconds": 43200},
        "inputs": ["dumps/weibo-2024-03.csv.gz", "dumps/<odd & name>.jsonl"],
    }
    return ScanResult(
        accounts=accounts,
        clusters=clusters,
        posts=posts,
        groups=pl.DataFrame(b.groups, schema=GROUPS).sort("group_id"),
        edges=pl.DataFrame(b.edges, schema=EDGES).sort("cluster_id", "source", "target"),
        rejects=rejects,
        summary=summary,
    )
