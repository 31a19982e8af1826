"""Per-cluster evidence, a score in [0, 1], a verdict and the reasons behind it.

Features are computed by numba kernels over the members' in-window co-shares (of every
trace: texts, reposts, replies, URLs, hashtags, mentions) and the links between them. Two
kinds of evidence matter, because a takedown needs both:

- *coordination*: members repeatedly co-share many distinct objects (``repetition``), or
  each posted their own rewording of one spun text (``rewording``: the software repeated
  itself for them), and those objects are theirs alone (``exclusivity``). An authentic
  crowd converges on a slogan, a statement or a trending post that thousands of others
  share too; a bot network pushes many objects that nobody else pushes.
- *inauthenticity*: accounts created in batches (``creation_concentration``), texts spun
  into variants rather than copied (``variant_ratio``; for reposts, links and tags, how
  fast members co-share, ``co_share_speed``), activity made of little but co-shares
  (``co_share_density``) spread over many objects (``content_diversity``), shares landing
  together (``synchrony``).

The score is the probability given by a logistic regression over these features
(:mod:`detector.model`, fitted by :mod:`detector.calibrate`); the reasons read the
features, not the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numba as nb
import numpy as np

from detector.graph import AccountGraph, Traces, group_medians
from detector.model import ScoreModel
from detector.schema import FEATURES
from detector.sorting import stable_argsort

BUSY_DAY_SHARE = 0.02  # a sign-up day is "busy" when it holds >= 2% of the members (and >= 3)
TOP_SOURCES = 3  # source_concentration: the share of the three most shared sources
TRACE_SHOWN = 0.05  # a trace "holds" a cluster when it carries >= 5% of its link weight
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ClusterEvidence:
    """Feature matrix (columns in :data:`detector.schema.FEATURES` order) and the figures
    quoted in the reasons, one row per cluster."""

    features: np.ndarray  # float64 (n_clusters, len(FEATURES)); NaN = unknown
    n_accounts: np.ndarray
    n_posts: np.ndarray
    n_shared_posts: np.ndarray  # posts co-sharing an object within its window
    n_groups: np.ndarray  # distinct near-duplicate text groups co-shared
    n_objects: np.ndarray  # distinct objects of any trace co-shared
    n_texts: np.ndarray  # distinct texts within the co-shared near-duplicate groups
    median_repetition: np.ndarray
    busy_days: np.ndarray
    largest_group_share: np.ndarray
    median_gap: np.ndarray  # seconds between members' co-shares (not text); NaN if none
    median_gap_all: np.ndarray  # seconds between members' co-shares of any trace; NaN if none
    trace_share: np.ndarray  # (n_clusters, n_kinds) share of internal link weight per kind
    kinds: tuple[str, ...]

    def traces(self, index: int) -> list[str]:
        """The traces holding cluster ``index`` together, strongest first."""
        share = self.trace_share[index]
        order = np.argsort(-share, kind="stable")
        return [self.kinds[k] for k in order if share[k] >= TRACE_SHOWN]


@nb.njit(cache=True)
def _object_features(
    cluster: np.ndarray,
    key: np.ndarray,
    account: np.ndarray,
    time: np.ndarray,
    window: np.ndarray,
    is_text: np.ndarray,
    object_shares: np.ndarray,
    n_clusters: int,
) -> tuple[np.ndarray, ...]:
    """Per cluster, over its members' in-window co-shares (rows sorted by cluster, key,
    time): co-shares, those within the window of another *member*, distinct objects,
    distinct text groups, text co-shares, the largest object's
    co-shares, co-shares weighted by the cluster's share of all shares of their object, and
    for each wave of a non-text object (members' shares chained within the window) the
    interquartile range of its share times, in windows: a network fired at once gives
    tight waves, a crowd reacting over hours one long loose chain.
    Linear: each (cluster, object) run is walked forwards and backwards once."""
    shares = np.zeros(n_clusters, np.int64)
    synchronous = np.zeros(n_clusters, np.int64)
    objects = np.zeros(n_clusters, np.int64)
    groups = np.zeros(n_clusters, np.int64)
    text_shares = np.zeros(n_clusters, np.int64)
    largest = np.zeros(n_clusters, np.int64)
    owned = np.zeros(n_clusters, np.float64)
    near = np.zeros(cluster.shape[0], np.bool_)
    spread_cluster = np.empty(cluster.shape[0], np.int64)  # one entry per non-text object
    spread = np.empty(cluster.shape[0], np.float64)
    spread_weight = np.empty(cluster.shape[0], np.float64)
    n_spread = 0
    n = cluster.shape[0]
    start = 0
    while start < n:
        c, k = cluster[start], key[start]
        end = start
        while end < n and cluster[end] == c and key[end] == k:
            end += 1
        size = end - start
        shares[c] += size
        objects[c] += 1
        largest[c] = max(largest[c], size)
        owned[c] += size * min(1.0, size / max(object_shares[start], 1.0))
        if not is_text[start]:
            # Split the members' shares into waves (consecutive shares within the window);
            # record each wave's interquartile range of share times, in windows.
            wave = start
            for i in range(start + 1, end + 1):
                if i == end or time[i] - time[i - 1] > window[i]:
                    size_wave = i - wave
                    if size_wave >= 2:
                        q1 = time[wave + (size_wave - 1) // 4]
                        q3 = time[wave + (3 * (size_wave - 1)) // 4]
                        spread_cluster[n_spread] = c
                        spread[n_spread] = (q3 - q1) / window[wave]
                        spread_weight[n_spread] = size_wave
                        n_spread += 1
                    wave = i
        if is_text[start]:
            groups[c] += 1
            text_shares[c] += size
        for direction in range(2):
            last_account, last_time, other_time, has_other = -1, 0, 0, False
            for step in range(size):
                i = start + step if direction == 0 else end - 1 - step
                if last_account >= 0:
                    other = last_account != account[i]
                    t = last_time if other else other_time
                    if (other or has_other) and abs(time[i] - t) <= window[i]:
                        near[i] = True
                    if other:
                        other_time, has_other = last_time, True
                last_account, last_time = account[i], time[i]
        for i in range(start, end):
            synchronous[c] += near[i]
        start = end
    return (
        shares, synchronous, objects, groups, text_shares, largest, owned,
        spread_cluster[:n_spread], spread[:n_spread], spread_weight[:n_spread],
    )  # fmt: skip


@nb.njit(cache=True)
def _account_features(
    cluster: np.ndarray, created_day: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, ...]:
    """Per cluster: members, members with a known creation day, members created on busy
    days and the number of busy days. Accounts sorted by cluster, created_day;
    ``created_day`` -1 when unknown."""
    members = np.zeros(n_clusters, np.int64)
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
    return members, known, on_busy, busy_days


def _edge_features(
    graph: AccountGraph, account_cluster: np.ndarray, text_kind: int, n_clusters: int, n_kinds: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster, over links inside it: share of member pairs that co-shared >= 2
    distinct objects, median gap of non-text co-shares (NaN if none), and each kind's
    share of the link weight."""
    inside = graph.within_clusters(account_cluster)
    c, kind = account_cluster[graph.source[inside]], graph.kind[inside]
    summed = np.bincount(c * n_kinds + kind, graph.weight[inside], n_clusters * n_kinds)
    share = summed.astype(np.float64).reshape(n_clusters, n_kinds)  # int64 where empty
    share /= np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    # Pairs: co-shared objects summed over kinds.
    pair = graph.source[inside].astype(np.int64) * graph.n_accounts + graph.target[inside]
    unique, inverse = np.unique(pair, return_inverse=True)
    pair_shared = np.bincount(inverse, weights=graph.shared[inside], minlength=unique.size)
    pair_cluster = np.zeros(unique.size, np.int64)
    pair_cluster[inverse] = c
    pairs = np.bincount(pair_cluster, minlength=n_clusters)
    recurrent = np.bincount(pair_cluster, weights=pair_shared >= 2, minlength=n_clusters)
    recurrence = np.where(pairs > 0, recurrent / np.maximum(pairs, 1), 0.0)
    fast = kind != text_kind
    gap = _median_per_cluster(c[fast], graph.gap_median[inside][fast], n_clusters)
    gap_all = _median_per_cluster(c, graph.gap_median[inside], n_clusters)
    return recurrence, gap, gap_all, share


def cluster_evidence(
    *,
    graph: AccountGraph,
    traces: Traces,
    object_shares: np.ndarray,
    account_cluster: np.ndarray,
    account_posts: np.ndarray,
    account_created: np.ndarray,
    kinds: tuple[str, ...],
    windows: np.ndarray,
    n_clusters: int,
) -> ClusterEvidence:
    """Features of every cluster from its members' in-window co-shares (``traces``, with
    ``object_shares`` the number of all shares of each row's object) and the links between
    them. Accounts outside clusters have cluster -1; ``account_created`` is epoch seconds
    or -1 if unknown."""
    text_kind = kinds.index("text") if "text" in kinds else -1
    tc = account_cluster[traces.account]
    inside = tc >= 0
    t = traces.take(inside)
    tc, shares_of_object = tc[inside], object_shares[inside]
    order = np.lexsort((t.time, t.key, tc))
    (
        shares, synchronous, objects, groups, text_shares, largest, owned,
        spread_cluster, spread, spread_weight,
    ) = (
        _object_features(
            tc[order], t.key[order], t.account[order], t.time[order],
            np.asarray(windows, np.int64)[t.kind[order]],
            t.kind[order] == text_kind, shares_of_object[order].astype(np.float64), n_clusters,
        )
    )  # fmt: skip
    texts = _distinct_texts(tc, t.key, t.variant, t.kind == text_kind, n_clusters)
    own = (t.kind == text_kind) & (t.rewording > 0)
    rewordings = np.bincount(tc[own], minlength=n_clusters)
    shared_posts = np.bincount(_post_cluster(t.post, tc), minlength=n_clusters)
    member = account_cluster >= 0
    posts = np.bincount(
        account_cluster[member], weights=account_posts[member], minlength=n_clusters
    )
    ac, rep, created = account_cluster[member], graph.repetition[member], account_created[member]
    day = np.where(created >= 0, created // SECONDS_PER_DAY, -1)
    order = np.lexsort((day, ac))
    members, known, on_busy, busy_days = _account_features(ac[order], day[order], n_clusters)
    median = group_medians(ac, rep.astype(np.float64), n_clusters, empty=0.0)
    recurrence, gap, gap_all, trace_share = _edge_features(
        graph, account_cluster, text_kind, n_clusters, len(kinds)
    )
    concentration = _source_concentration(tc, t.source, n_clusters)

    def ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
        return np.where(den > 0, num / np.maximum(den, 1), empty)

    largest_share = ratio(largest, shares, 1.0)
    creation = np.where(known * 2 >= members, ratio(on_busy, known, 0.0), np.nan)
    columns = {
        "co_share_density": ratio(shared_posts, posts, 0.0),
        "synchrony": ratio(synchronous, shares, 0.0),
        "repetition": np.clip(1.0 - np.exp(-0.45 * (median - 1.0)), 0.0, 1.0),
        "exclusivity": ratio(owned, shares, 0.0),
        "pair_recurrence": recurrence,
        "co_share_speed": 1.0
        / (1.0 + _median_per_cluster(spread_cluster, spread, n_clusters, spread_weight)),
        "source_concentration": concentration,
        "creation_concentration": creation,
        "content_diversity": 1.0 - largest_share,
        "variant_ratio": np.where(
            text_shares > groups, (texts - groups) / np.maximum(text_shares - groups, 1),
            np.where(groups > 0, 0.0, np.nan),
        ),
        "size": 1.0 - np.exp(-members / 20.0),
        "text_share": trace_share[:, text_kind] if text_kind >= 0 else np.zeros(n_clusters),
        "rewording": ratio(rewordings, text_shares, 0.0),
    }  # fmt: skip
    return ClusterEvidence(
        features=np.column_stack([columns[name] for name in FEATURES]).astype(np.float64),
        n_accounts=members,
        n_posts=posts.astype(np.int64),
        n_shared_posts=shared_posts.astype(np.int64),
        n_groups=groups,
        n_objects=objects,
        n_texts=texts,
        median_repetition=median,
        busy_days=busy_days,
        largest_group_share=largest_share,
        median_gap=gap,
        median_gap_all=gap_all,
        trace_share=trace_share,
        kinds=tuple(kinds),
    )


def _distinct_texts(
    cluster: np.ndarray, key: np.ndarray, variant: np.ndarray, text: np.ndarray, n_clusters: int
) -> np.ndarray:
    """Per cluster, the distinct texts (``variant``) its members co-shared in each text
    group (``key``), summed over the groups."""
    c, k, v = cluster[text], key[text], variant[text]
    order = np.lexsort((v, k, c))
    c, k, v = c[order], k[order], v[order]
    new = np.ones(c.size, bool)
    new[1:] = (c[1:] != c[:-1]) | (k[1:] != k[:-1]) | (v[1:] != v[:-1])
    return np.bincount(c[new], minlength=n_clusters)


def _source_concentration(cluster: np.ndarray, source: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per cluster: share of its co-shares with a known source that go to its TOP_SOURCES
    most shared sources (NaN when no source is known)."""
    out = np.full(n_clusters, np.nan)
    known = source >= 0
    if not known.any():
        return out
    c, s = cluster[known], source[known]
    order = np.lexsort((s, c))
    c, s = c[order], s[order]
    starts = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (s[1:] != s[:-1])])
    counts = np.diff(np.r_[starts, c.size])
    owner = c[starts]
    order = np.lexsort((-counts, owner))
    owner, counts = owner[order], counts[order]
    firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    rank = np.arange(owner.size) - np.repeat(firsts, np.diff(np.r_[firsts, owner.size]))
    total = np.bincount(owner, weights=counts, minlength=n_clusters)
    top = np.bincount(owner, weights=np.where(rank < TOP_SOURCES, counts, 0), minlength=n_clusters)
    out[total > 0] = top[total > 0] / total[total > 0]
    return out


def _median_per_cluster(
    cluster: np.ndarray, values: np.ndarray, n_clusters: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) median of ``values`` per cluster (NaN where a cluster has none): the
    lower middle of each cluster's values, found by a partition where all weigh one."""
    out = np.full(n_clusters, np.nan)
    if cluster.size == 0:
        return out
    order = stable_argsort(cluster)
    cluster, values = cluster[order], values[order]
    weights = None if weights is None else weights[order]
    starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]])
    for start, end in zip(starts, np.r_[starts[1:], cluster.size], strict=True):
        part = values[start:end]
        if weights is None:
            middle = (end - start + 1) // 2 - 1
            out[cluster[start]] = np.partition(part, middle)[middle]
        else:
            by = np.argsort(part)
            cumulative = np.cumsum(weights[start:end][by])
            out[cluster[start]] = part[by][np.searchsorted(cumulative, cumulative[-1] / 2)]
    return out


def _post_cluster(post: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """The cluster of each distinct post (a post's traces all belong to its account)."""
    _, first = np.unique(post, return_index=True)
    return cluster[first]


def feature(evidence: ClusterEvidence, name: str) -> np.ndarray:
    return evidence.features[:, FEATURES.index(name)]


def score_clusters(evidence: ClusterEvidence, model: ScoreModel) -> np.ndarray:
    """Score in [0, 1] of each cluster under ``model``."""
    return model.score({name: feature(evidence, name) for name in FEATURES})


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _seconds(value: float) -> str:
    if value < 90:
        return f"{value:.0f} s"
    if value < 5400:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def cluster_reasons(
    evidence: ClusterEvidence,
    index: int,
    *,
    flagged: bool,
    weights: Mapping[str, float] | None = None,
) -> list[str]:
    """Plain-English reasons for one cluster's score. ``weights``: how much each feature
    weighs in *this* cluster's score (:meth:`ScoreModel.evidence`); without them, a
    feature's own value. A flagged cluster opens with what its members did, in figures,
    then its heaviest evidence; an unflagged one opens with what kept it below the line."""
    f = {name: float(evidence.features[index, k]) for k, name in enumerate(FEATURES)}
    members = int(evidence.n_accounts[index])
    median = float(evidence.median_repetition[index])
    shared = int(evidence.n_shared_posts[index])
    groups = int(evidence.n_groups[index])
    objects = int(evidence.n_objects[index])
    largest = _pct(float(evidence.largest_group_share[index]))
    traces = evidence.traces(index)
    what = " and ".join(traces) if traces else "shared objects"
    reasons: list[tuple[float, str]] = []
    weight = dict(weights or {})

    def add(strength: float, strong: bool, if_strong: str, if_weak: str, name: str = "") -> None:
        reasons.append((weight.get(name, strength), if_strong if strong else if_weak))

    add(
        f["repetition"], f["repetition"] >= 0.5,
        f"repetition: its {members} accounts each co-shared a median of {median:g} "
        f"distinct objects ({what}) with other accounts",
        f"low repetition: members co-shared a median of only {median:g} distinct objects, "
        "as an authentic crowd reacting once does",
        "repetition",
    )  # fmt: skip
    add(
        f["exclusivity"], f["exclusivity"] >= 0.5,
        f"exclusive content: of all shares of the object behind a typical co-share, "
        f"{_pct(f['exclusivity'])} come from these accounts alone",
        f"shared with a crowd: of all shares of the object behind a typical co-share, "
        f"its accounts made only {_pct(f['exclusivity'])}; many others shared it too",
        "exclusivity",
    )  # fmt: skip
    add(
        f["pair_recurrence"], f["pair_recurrence"] >= 0.5,
        f"the same pairs again and again: {_pct(f['pair_recurrence'])} of linked member "
        "pairs co-shared two or more distinct objects",
        f"pairs rarely meet twice: only {_pct(f['pair_recurrence'])} of linked member pairs "
        "co-shared more than one object",
        "pair_recurrence",
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
            "creation_concentration",
        )  # fmt: skip
    if f["rewording"] >= 0.5:
        reasons.append(
            (
                weight.get("rewording", f["rewording"]),
                f"copywriting: {_pct(f['rewording'])} of the texts they co-shared are each "
                "account's own rewording of one long text, in groups of many distinct "
                "rewordings (spun by software, not copied or written by people)",
            )
        )
    if groups and not math.isnan(f["variant_ratio"]):
        add(
            f["variant_ratio"], f["variant_ratio"] >= 0.5,
            f"spun variants: {_pct(f['variant_ratio'])} of the shared texts are "
            "rewordings of one another, not copies",
            f"shared texts are mostly identical copies ({_pct(1 - f['variant_ratio'])}), "
            "not spun rewordings",
            "variant_ratio",
        )  # fmt: skip
    gap = float(evidence.median_gap[index])
    if any(t != "text" for t in traces) and not math.isnan(f["co_share_speed"]):
        add(
            f["co_share_speed"], f["co_share_speed"] >= 0.5,
            f"acting together: members shared each object in one tight burst (linked "
            f"members a median of {_seconds(gap)} apart)",
            "each on their own time: members' shares of an object spread far beyond the "
            f"co-sharing window (linked members a median of {_seconds(gap)} apart)",
            "co_share_speed",
        )  # fmt: skip
    concentration = f["source_concentration"]
    if not math.isnan(concentration) and concentration >= 0.5:
        reasons.append(
            (
                0.5 * concentration,
                f"few sources: {_pct(concentration)} of the reposts, replies and links they "
                f"co-shared point to {TOP_SOURCES} or fewer accounts or sites",
            )
        )
    add(
        f["co_share_density"], f["co_share_density"] >= 0.5,
        f"dedicated accounts: {_pct(f['co_share_density'])} of their "
        f"{int(evidence.n_posts[index])} posts co-share an object with another account",
        f"mostly ordinary activity: only {_pct(f['co_share_density'])} of their posts "
        "co-share an object with another account",
        "co_share_density",
    )  # fmt: skip
    add(
        f["content_diversity"], f["content_diversity"] >= 0.5,
        f"pushes {objects} distinct objects; the largest holds only {largest} of co-shares",
        f"one object dominates: the largest of {objects} objects holds {largest} of "
        "co-shares",
        "content_diversity",
    )  # fmt: skip
    if f["synchrony"] >= 0.5 and shared:
        reasons.append(
            (
                weight.get("synchrony", f["synchrony"]),
                f"synchrony: {_pct(f['synchrony'])} of co-shares came within the window of "
                "another member sharing the same object",
            )
        )
    reasons.sort(key=lambda item: -item[0] if flagged else item[0])
    return ([_headline(evidence, index)] if flagged else []) + [text for _, text in reasons]


def _headline(evidence: ClusterEvidence, index: int) -> str:
    """What the members did, in figures: the sentence an analyst pastes into a case."""
    members, objects = int(evidence.n_accounts[index]), int(evidence.n_objects[index])
    groups, texts = int(evidence.n_groups[index]), int(evidence.n_texts[index])
    gap = float(evidence.median_gap_all[index])
    when = "" if math.isnan(gap) else f", linked members a median of {_seconds(gap)} apart"
    traces = evidence.traces(index)
    if traces[:1] == ["text"] and groups:
        return (
            f"{members:,} accounts posted {texts:,} distinct texts in {groups:,} "
            f"near-duplicate group{'s' if groups > 1 else ''}{when}"
        )
    what = " and ".join(traces) if traces else "shared"
    return f"{members:,} accounts co-shared {objects:,} objects ({what}){when}"
