"""Per-cluster evidence, a score in [0, 1], a verdict and the reasons behind it.

Features are computed by numba kernels over flat post and account arrays. The score is the
geometric mean of two kinds of evidence, because a takedown needs both:

- *coordination*: members repeatedly co-post many distinct contents (``repetition``) and
  those contents are theirs alone (``exclusivity``). An authentic crowd converges on a
  slogan or a statement that thousands of others post too; a bot network pushes many
  contents that nobody else posts.
- *inauthenticity*: accounts created in batches (``creation_concentration``), texts spun
  into variants rather than copied (``variant_ratio``), activity made of little but the
  shared contents (``near_duplicate_density``) spread over many of them
  (``content_diversity``), posts landing together (``synchrony``).

Either kind alone stays below 0.5, so an authentic burst (synchronous, but shared with a
crowd, old accounts) or a set of regular co-posters (repetitive, but organic) is not
flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from detector.schema import FEATURES

INAUTHENTICITY_WEIGHTS = {
    "creation_concentration": 0.45,
    "variant_ratio": 0.2,
    "near_duplicate_density": 0.15,
    "content_diversity": 0.1,
    "synchrony": 0.1,
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
    group_posts: np.ndarray,
    n_clusters: int,
    window: int,
) -> tuple[np.ndarray, ...]:
    """Per cluster: posts, shared posts, synchronous shared posts, distinct groups, distinct
    texts within groups, the largest group's posts and its shared posts each weighted by
    the cluster's share of all posts of their group. Posts sorted by cluster, group, time;
    ``group`` -1 for posts in no shared group."""
    posts = np.zeros(n_clusters, np.int64)
    shared = np.zeros(n_clusters, np.int64)
    synchronous = np.zeros(n_clusters, np.int64)
    groups = np.zeros(n_clusters, np.int64)
    texts = np.zeros(n_clusters, np.int64)
    largest = np.zeros(n_clusters, np.int64)
    owned = np.zeros(n_clusters, np.float64)
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
            owned[c] += (end - start) * (end - start) / group_posts[g]
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
    return posts, shared, synchronous, groups, texts, largest, owned


@nb.njit(cache=True)
def _account_features(
    cluster: np.ndarray, repetition: np.ndarray, created_day: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, ...]:
    """Per cluster: members, median repetition, members with a known creation day, members
    created on busy days and the number of busy days. Accounts sorted by cluster,
    created_day; ``created_day`` -1 when unknown."""
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
        busy = max(3, math.ceil(BUSY_DAY_SHARE * size))
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
    """Features of every cluster. Posts/accounts outside clusters have cluster -1, posts in
    no shared group have group -1; ``account_created`` is epoch seconds or -1 if unknown."""
    group_posts = np.bincount(post_group[post_group >= 0], minlength=1)
    inside = post_cluster >= 0
    pc, pa, pt = post_cluster[inside], post_account[inside], post_time[inside]
    pg, px = post_group[inside], post_text[inside]
    order = np.lexsort((pt, pg, pc))
    posts, shared, synchronous, groups, texts, largest, owned = _post_features(
        pc[order], pa[order], pt[order], pg[order], px[order], group_posts, n_clusters,
        window_seconds,
    )  # fmt: skip
    member = account_cluster >= 0
    ac, rep, created = account_cluster[member], account_repetition[member], account_created[member]
    day = np.where(created >= 0, created // SECONDS_PER_DAY, -1)
    order = np.lexsort((day, ac))
    members, median, known, on_busy, busy_days = _account_features(
        ac[order], rep[order].astype(np.float64), day[order], n_clusters
    )

    def ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
        return np.where(den > 0, num / np.maximum(den, 1), empty)

    largest_share = ratio(largest, shared, 1.0)
    creation = np.where(known * 2 >= members, ratio(on_busy, known, 0.0), np.nan)
    columns = {
        "near_duplicate_density": ratio(shared, posts, 0.0),
        "synchrony": ratio(synchronous, shared, 0.0),
        "repetition": np.clip(1.0 - np.exp(-0.45 * (median - 1.0)), 0.0, 1.0),
        "exclusivity": ratio(owned, shared, 0.0),
        "creation_concentration": creation,
        "content_diversity": 1.0 - largest_share,
        "variant_ratio": ratio(texts - groups, shared - groups, 0.0),
        "size": 1.0 - np.exp(-members / 20.0),
    }
    return ClusterEvidence(
        features=np.column_stack([columns[name] for name in FEATURES]).astype(np.float64),
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
    coordination = feature(evidence, "repetition") * feature(evidence, "exclusivity")
    inauthenticity = np.zeros(evidence.features.shape[0])
    for name, weight in INAUTHENTICITY_WEIGHTS.items():
        values = feature(evidence, name)
        if name == "creation_concentration":
            values = np.where(np.isnan(values), UNKNOWN_CREATION, values)
        inauthenticity += weight * values
    return np.sqrt(np.clip(coordination * inauthenticity, 0.0, 1.0))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def cluster_reasons(
    evidence: ClusterEvidence, index: int, window_seconds: int, *, flagged: bool
) -> list[str]:
    """Plain-English reasons for one cluster's score: for a flagged cluster the strongest
    evidence first, for an unflagged one the evidence that cleared it first."""
    f = {name: float(evidence.features[index, k]) for k, name in enumerate(FEATURES)}
    members = int(evidence.n_accounts[index])
    median = float(evidence.median_repetition[index])
    shared = int(evidence.n_shared_posts[index])
    groups = int(evidence.n_groups[index])
    largest = _pct(float(evidence.largest_group_share[index]))
    reasons: list[tuple[float, str]] = []

    def add(strength: float, strong: bool, if_strong: str, if_weak: str) -> None:
        reasons.append((strength, if_strong if strong else if_weak))

    add(
        f["repetition"], f["repetition"] >= 0.5,
        f"repetition: its {members} accounts each co-posted a median of {median:g} "
        "distinct contents with other accounts",
        f"low repetition: members co-posted a median of only {median:g} distinct contents, "
        "as an authentic crowd reacting once does",
    )  # fmt: skip
    add(
        f["exclusivity"], f["exclusivity"] >= 0.5,
        f"exclusive content: of all posts of the content behind a typical shared post, "
        f"{_pct(f['exclusivity'])} come from these accounts alone",
        f"shared with a crowd: of all posts of the content behind a typical shared post, "
        f"its accounts made only {_pct(f['exclusivity'])}; many others posted it too",
    )  # fmt: skip
    creation = f["creation_concentration"]
    if math.isnan(creation):
        reasons.append((0.0, "account creation dates are not in the input"))
    else:
        add(
            creation, creation >= 0.5,
            f"batch creation: {_pct(creation)} of accounts were created on "
            f"{int(evidence.busy_days[index])} days of mass sign-ups",
            f"account creation dates are spread out (only {_pct(creation)} on mass "
            "sign-up days)",
        )  # fmt: skip
    if shared:
        add(
            f["variant_ratio"], f["variant_ratio"] >= 0.5,
            f"spun variants: {_pct(f['variant_ratio'])} of the {shared} shared posts are "
            "rewordings of one another, not copies",
            f"shared posts are mostly identical copies ({_pct(1 - f['variant_ratio'])}), "
            "not spun rewordings",
        )  # fmt: skip
    add(
        f["near_duplicate_density"], f["near_duplicate_density"] >= 0.5,
        f"dedicated accounts: {_pct(f['near_duplicate_density'])} of their posts are "
        "shared contents",
        f"mostly ordinary activity: only {_pct(f['near_duplicate_density'])} of their posts "
        "are shared contents",
    )  # fmt: skip
    add(
        f["content_diversity"], f["content_diversity"] >= 0.5,
        f"pushes {groups} distinct near-duplicate contents; the largest holds only "
        f"{largest} of shared posts",
        f"one content dominates: the largest of {groups} near-duplicate contents holds "
        f"{largest} of shared posts",
    )  # fmt: skip
    if f["synchrony"] >= 0.5:
        reasons.append(
            (
                f["synchrony"],
                f"synchrony: {_pct(f['synchrony'])} of shared posts came within "
                f"{window_seconds / 3600:g} h of another member posting the same content",
            )
        )
    reasons.sort(key=lambda item: -item[0] if flagged else item[0])
    return [text for _, text in reasons]
