"""What the report shows and how much of it: the caps that keep report.html one fast,
self-contained file at 10,000 flagged accounts, and the choices behind its pictures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportSettings:
    """Tunables of report.html and ``detector explain``; the defaults suit 10,000 flagged
    accounts in a page of a few MB."""

    expanded: int = 200  # flagged clusters shown with full evidence; the rest only in the table
    open_on_load: int = 5  # of those, open on load
    top_accounts: int = 10  # best-connected members listed per card
    network_nodes: int = 120  # best-connected members drawn in a cluster's network picture
    network_links_per_node: int = 2  # strongest links of each drawn member kept inside its group
    network_colours: int = 8  # sub-communities coloured; smaller ones share a grey
    layout_seed: int = 7  # seed of community detection and layout: the same picture every run
    hover_chars: int = 80  # of the shared text quoted when hovering a link
    wave_gap_s: int = 6 * 3600  # a quiet spell this long ends a wave of posts
    wave_min_share: float = 0.05  # a wave holds at least this share of the cluster's posts
    max_waves: int = 8  # waves marked on a timeline (the largest, numbered in time order)
    busy_days_shown: int = 24  # mass sign-up days drawn as bars in the creation chart
    bundle_rows: int = 100_000  # posts + edges embedded for the clusters' CSV downloads
    account_posts: int = 25  # posts per account embedded for its panel (list and timeline)
    drill_rows: int = 300_000  # such posts in all, for flagged clusters without a bundle
    members_listed: int = 200  # members listed when a card's member list is opened


DEFAULT = ReportSettings()
