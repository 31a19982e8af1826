"""Per-cluster evidence, a score in [0, 1], a verdict and the reasons behind it.

Features are computed by numba kernels over flat post and account arrays. The score is the
geometric mean of two kinds of evidence, because a takedown needs both:

- *coordination*: members repeatedly co-post many distinct contents (``repetition``). An
  authentic crowd converges on one slogan or statement once; a bot network pushes many.
- *inauthenticity*: accounts created in batches (``creation_concentration``), texts spun
  into variants rather than copied (``variant_ratio``), posts landing together
  (``synchrony``) across many contents (``content_diversity``).

Either kind alone stays below 0.5, so an authentic burst (synchronous, one content, old
accounts) or a set of regular co-posters (repetitive, but organic) is not flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from detector.schema import FEATURES

INAUTHENTICITY_WEIGHTS = {
    "creation_concentration": 0.45,
    "variant_ratio": 0.25,
    "synchrony": 0.15,
    "content_diversity": 0.15,
}
UNKNOWN_CREATION = 0.5  # uninformative value used when creation dates are not in the input
BUSY_DAY_SHARE = 0.02  # a sign-up day is "busy" when it holds >= 2% of the members (and >= 3)
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ClusterEvidence:
    """Feature matrix (columns in :data:`detector.schema.FEATURES` order) and the figures
    quoted in the reasons, one row per cluster."""

    features: np.ndarray  # float64 (n_clusters, len(FEATURES)); NaN = unknown
    n_accounts: np.ndarray
    n_posts: np.ndarray
    n_shared_posts: np.ndarray
    n_groups: np.ndarray
    median_repetition: np.ndarray
    busy_days: np.ndarray
    largest_group_share: np.ndarray


@nb.njit(cache=True)
def _post_features(
    cluster: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    group: np.ndarray,
    text: np.ndarray,
    n_clusters: int,
    window: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Posts per cluster, shared posts, synchronous shared posts, distinct groups, distinct
    texts within groups and the largest group's post count (posts sorted by
    cluster, group, time; ``group`` -1 for posts in no shared group)."""
    posts = np.zeros(n_clusters, np.int64)
    shared = np.zeros(n_clusters, np.int64)
    synchronous = np.zeros(n_clusters, np.int64)
    groups = np.zeros(n_clusters, np.int64)
    texts = np.zeros(n_clusters, np.int64)
    largest = np.zeros(n_clusters, np.int64)
    n = cluster.shape[0]
    start = 0
    while start < n:
        c, g = cluster[start], group[start]
        end = start
        while end < n and cluster[end] == c and group[end] == g:
            end += 1
        posts[c] += end - start
        if g >= 0:
            shared[c] += end - start
            groups[c] += 1
            largest[c] = max(largest[c], end - start)
            seen = np.sort(text[start:end])
            texts[c] += 1 + np.count_nonzero(seen[1:] != seen[:-1])
            for i in range(start, end):
                hit = False
                j = i - 1
                while j >= start and time[i] - time[j] <= window and not hit:
                    hit = account[j] != account[i]
                    j -= 1
                j = i + 1
                while j < end and time[j] - time[i] <= window and not hit:
                    hit = account[j] != account[i]
                    j += 1
                synchronous[c] += hit
        start = end
    return posts, shared, synchronous, groups, texts, largest


@nb.njit(cache=True)
def _account_features(
    cluster: np.ndarray, repetition: np.ndarray, created_day: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Members, median repetition, members with a known creation day, members created on
    busy days and the number of busy days (accounts sorted by cluster, created_day;
    ``created_day`` -1 when unknown)."""
    members = np.zeros(n_clusters, np.int64)
    median = np.zeros(n_clusters, np.float64)
    known = np.zeros(n_clusters, np.int64)
    on_busy = np.zeros(n_clusters, np.int64)
    busy_days = np.zeros(n_clusters, np.int64)
    n = cluster.shape[0]
    start = 0
    while start < n:
        c = cluster[start]
        end = start
        while end < n and cluster[end] == c:
            end += 1
        size = end - start
        members[c] = size
        median[c] = np.median(repetition[start:end])
        busy = max(3, int(math.ceil(BUSY_DAY_SHARE * size)))
        i = start
        while i < end:
            j = i
            while j < end and created_day[j] == created_day[i]:
                j += 1
            if created_day[i] >= 0:
                known[c] += j - i
                if j - i >= busy:
                    on_busy[c] += j - i
                    busy_days[c] += 1
            i = j
        start = end
    return members, median, known, on_busy, busy_days


def cluster_evidence(
    *,
    post_cluster: np.ndarray,
    post_account: np.ndarray,
    post_time: np.ndarray,
    post_group: np.ndarray,
    post_text: np.ndarray,
    account_cluster: np.ndarray,
    account_repetition: np.ndarray,
    account_created: np.ndarray,
    n_clusters: int,
    window_seconds: int,
) -> ClusterEvidence:
    """Features of every cluster. Posts/accounts outside clusters have cluster -1;
    ``account_created`` is epoch seconds or -1 when unknown."""
    in_cluster = post_cluster >= 0
    pc, pa, pt = post_cluster[in_cluster], post_account[in_cluster], post_time[in_cluster]
    pg, px = post_group[in_cluster], post_text[in_cluster]
    order = np.lexsort((pt, pg, pc))
    posts, shared, synchronous, groups, texts, largest = _post_features(
        pc[order], pa[order], pt[order], pg[order], px[order], n_clusters, window_seconds
    )
    members_mask = account_cluster >= 0
    ac, rep = account_cluster[members_mask], account_repetition[members_mask]
    created = account_created[members_mask]
    day = np.where(created >= 0, created // SECONDS_PER_DAY, -1)
    order = np.lexsort((day, ac))
    members, median, known, on_busy, busy_days = _account_features(
        ac[order], rep[order].astype(np.float64), day[order], n_clusters
    )

    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(posts > 0, shared / np.maximum(posts, 1), 0.0)
        synchrony = np.where(shared > 0, synchronous / np.maximum(shared, 1), 0.0)
        variant = np.where(shared > groups, (texts - groups) / np.maximum(shared - groups, 1), 0.0)
        largest_share = np.where(shared > 0, largest / np.maximum(shared, 1), 1.0)
        creation = np.where(known * 2 >= members, on_busy / np.maximum(known, 1), np.nan)
    repetition = np.clip(1.0 - np.exp(-0.45 * (median - 1.0)), 0.0, 1.0)
    diversity = 1.0 - largest_share
    size = 1.0 - np.exp(-members / 20.0)
    columns = {
        "near_duplicate_density": density,
        "synchrony": synchrony,
        "repetition": repetition,
        "creation_concentration": creation,
        "content_diversity": diversity,
        "variant_ratio": variant,
        "size": size,
    }
    features = np.column_stack([columns[name] for name in FEATURES]).astype(np.float64)
    return ClusterEvidence(
        features=features,
        n_accounts=members,
        n_posts=posts,
        n_shared_posts=shared,
        n_groups=groups,
        median_repetition=median,
        busy_days=busy_days,
        largest_group_share=largest_share,
    )


def feature(evidence: ClusterEvidence, name: str) -> np.ndarray:
    return evidence.features[:, FEATURES.index(name)]


def score_clusters(evidence: ClusterEvidence) -> np.ndarray:
    """Score in [0, 1]: sqrt(coordination * inauthenticity) (see module docstring)."""
    creation = feature(evidence, "creation_concentration")
    inauthenticity = INAUTHENTICITY_WEIGHTS["creation_concentration"] * np.where(
        np.isnan(creation), UNKNOWN_CREATION, creation
    )
    for name, weight in INAUTHENTICITY_WEIGHTS.items():
        if name != "creation_concentration":
            inauthenticity = inauthenticity + weight * feature(evidence, name)
    return np.sqrt(np.clip(feature(evidence, "repetition") * inauthenticity, 0.0, 1.0))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def cluster_reasons(evidence: ClusterEvidence, index: int, window_seconds: int) -> list[str]:
    """Plain-English reasons for one cluster's score, strongest evidence first."""
    f = {name: float(evidence.features[index, k]) for k, name in enumerate(FEATURES)}
    members = int(evidence.n_accounts[index])
    median = float(evidence.median_repetition[index])
    hours = window_seconds / 3600
    reasons: list[tuple[float, str]] = []
    if f["repetition"] >= 0.5:
        text = f"repetition: its {members} accounts each co-posted a median of {median:g} distinct contents with other accounts"
    else:
        text = f"low repetition: members co-posted a median of only {median:g} distinct contents, as an authentic crowd reacting once does"
    reasons.append((f["repetition"], text))
    creation = f["creation_concentration"]
    if math.isnan(creation):
        reasons.append((0.0, "account creation dates are not in the input"))
    elif creation >= 0.5:
        reasons.append(
            (
                creation,
                f"batch creation: {_pct(creation)} of accounts were created on {int(evidence.busy_days[index])} days with mass sign-ups",
            )
        )
    else:
        reasons.append(
            (
                creation,
                f"account creation dates are spread out (only {_pct(creation)} on mass sign-up days)",
            )
        )
    if f["variant_ratio"] >= 0.5:
        reasons.append(
            (
                f["variant_ratio"],
                f"spun variants: {_pct(f['variant_ratio'])} of the {int(evidence.n_shared_posts[index])} shared posts are rewordings of one another, not copies",
            )
        )
    elif evidence.n_shared_posts[index] > 0:
        reasons.append(
            (
                f["variant_ratio"],
                f"shared posts are mostly identical copies ({_pct(1 - f['variant_ratio'])}), not spun rewordings",
            )
        )
    if f["synchrony"] >= 0.5:
        reasons.append(
            (
                f["synchrony"],
                f"synchrony: {_pct(f['synchrony'])} of shared posts came within {hours:g} h of another member posting the same content",
            )
        )
    groups = int(evidence.n_groups[index])
    if f["content_diversity"] >= 0.5:
        reasons.append(
            (
                f["content_diversity"],
                f"pushes {groups} distinct near-duplicate contents; the largest holds only {_pct(evidence.largest_group_share[index])} of shared posts",
            )
        )
    else:
        reasons.append(
            (
                f["content_diversity"],
                f"one content dominates: the largest of {groups} near-duplicate groups holds {_pct(evidence.largest_group_share[index])} of shared posts",
            )
        )
    reasons.sort(key=lambda item: -item[0])
    return [text for _, text in reasons]
