"""Exports for other tools: the account graph of flagged clusters (GraphML for Gephi/igraph,
GEXF for Gephi) and enforcement.csv, the list a trust-and-safety team acts on.

The graph files are streamed: XML lines are built from polars columns a chunk at a time
(escaped in polars), never through a networkx graph. They hold what Gephi can lay out: the
accounts of the top flagged clusters by score up to ``export_max_nodes`` and the heaviest
``export_max_edges`` links among them; each file's description says what was left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl

from detector import __version__
from detector.config import TRACES, ScanConfig
from detector.errors import OutputError
from detector.progress import step
from detector.result import ScanResult
from detector.review import NO_DECISIONS, Decisions
from detector.triage.atomic import write_atomic

TOP_REASONS = 3  # of its cluster's reasons, on each row of enforcement.csv
ENFORCEMENT = (
    "account_id", "cluster_id", "score", "top_reasons", "n_posts", "shared_posts",
    "first_post", "last_post", "account_created_at", "review",
)  # fmt: skip
CHUNK_ROWS = 50_000  # graph rows turned into XML text at a time: bounds the writer's memory
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
# (name, GraphML type, GEXF type) of each node and edge attribute.
NODE_ATTRIBUTES = (
    ("label", "string", None),  # GEXF: the node's own label
    ("cluster", "long", "long"),
    ("score", "double", "double"),
    ("first_activity", "string", "string"),
    ("last_activity", "string", "string"),
)
EDGE_ATTRIBUTES = (
    ("weight", "double", None),  # GEXF: the edge's own weight
    ("shared", "long", "long"),
    ("traces", "string", "string"),
)
# Each trace as a bit (the edges table has one row per pair and trace, so a sum of bits is
# the pair's set of traces), and each set as the names it holds, in alphabetical order.
_TRACE_BITS = {name: 1 << bit for bit, name in enumerate(sorted(TRACES))}
_TRACE_SETS = {
    bits: ",".join(name for name, bit in _TRACE_BITS.items() if bits & bit)
    for bits in range(1 << len(TRACES))
}
# Characters XML 1.0 cannot hold, and those an attribute value would turn into spaces.
_NOT_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_ESCAPES = (
    ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
    ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;"),
)  # fmt: skip


@dataclass(frozen=True)
class FlaggedGraph:
    """The flagged-account graph as written: ``nodes`` (id, label, cluster, score,
    first_activity, last_activity) and ``edges`` (source, target, weight, shared, traces),
    with what the caps left out."""

    nodes: pl.DataFrame
    edges: pl.DataFrame
    flagged_accounts: int
    flagged_clusters: int
    clusters_shown: int
    links: int  # among the accounts shown, before the edge cap
    max_nodes: int
    max_edges: int

    @property
    def capped(self) -> bool:
        """Whether the caps left accounts or links out."""
        return self.nodes.height < self.flagged_accounts or self.edges.height < self.links

    def description(self) -> str:
        """What the file holds, caps included, in one sentence."""
        text = (
            f"Accounts of flagged clusters found by detector {__version__}: "
            f"{self.nodes.height:,} of {self.flagged_accounts:,} accounts, "
            f"{self.edges.height:,} of {self.links:,} links between them"
        )
        if not self.capped:
            return text + "."
        return text + (
            f" (capped for Gephi: the top {self.clusters_shown:,} of "
            f"{self.flagged_clusters:,} flagged clusters by score up to "
            f"{self.max_nodes:,} accounts, the heaviest {self.max_edges:,} links; set by "
            "--export-max-nodes and --export-max-edges)."
        )


def flagged_graph(
    result: ScanResult,
    *,
    max_nodes: int = ScanConfig.export_max_nodes,
    max_edges: int = ScanConfig.export_max_edges,
    activity: pl.DataFrame | None = None,
) -> FlaggedGraph:
    """Flagged accounts of the top clusters by score (whole clusters while they fit in
    ``max_nodes``; the first one cut to ``max_nodes`` when it alone is larger) and the
    heaviest ``max_edges`` of their links, one per pair (ties in node order).
    ``activity``: :func:`account_activity`, when already computed."""
    accounts = result.flagged_accounts.select("account_id", "cluster_id", "score")
    sizes = (
        accounts.group_by("cluster_id")
        .agg(pl.len(), pl.col("score").first())
        .sort(["score", "cluster_id"], descending=[True, False])
    )
    fits = sizes.filter(pl.col("len").cum_sum() <= max_nodes)["cluster_id"]
    shown = fits if fits.len() or sizes.is_empty() else sizes["cluster_id"].head(1)
    rank = pl.DataFrame({"cluster_id": shown, "rank": range(shown.len())})
    activity = account_activity(result) if activity is None else activity
    nodes = (
        accounts.join(rank, on="cluster_id")
        .sort("rank", "account_id")
        .head(max_nodes)
        .join(activity, on="account_id", how="left", maintain_order="left")
        .select(
            id=pl.col("account_id"),
            label=pl.col("account_id"),
            cluster=pl.col("cluster_id"),
            score=pl.col("score"),
            first_activity=pl.col("first_post").dt.to_string(ISO_SECONDS).fill_null(""),
            last_activity=pl.col("last_post").dt.to_string(ISO_SECONDS).fill_null(""),
        )
    )
    links = _links(result.edges.filter(pl.col("cluster_id").is_in(shown.implode())), nodes)
    ends = pl.lit(nodes["id"])
    edges = (
        links.top_k(max_edges, by=["weight", "s", "t"], reverse=[False, True, True])
        .sort("s", "t")
        .select(
            source=ends.gather(pl.col("s")),
            target=ends.gather(pl.col("t")),
            weight=pl.col("weight"),
            shared=pl.col("shared"),
            traces=pl.col("traces").replace_strict(_TRACE_SETS, return_dtype=pl.String),
        )
    )
    return FlaggedGraph(
        nodes=nodes,
        edges=edges,
        flagged_accounts=accounts.height,
        flagged_clusters=sizes.height,
        clusters_shown=nodes["cluster"].n_unique(),
        links=links.height,
        max_nodes=max_nodes,
        max_edges=max_edges,
    )


def _links(edges: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """One row per pair of ``nodes`` that ``edges`` link: node numbers ``s`` and ``t``,
    weight and shared objects summed over traces, ``traces`` the set of traces as bits.
    Grouping by node numbers rather than account strings keeps this fast at millions of
    edges."""
    number = nodes.select("id").with_row_index("n")
    return (
        edges.select("source", "target", "trace", "weight", "shared")
        .join(number.rename({"id": "source", "n": "s"}), on="source")
        .join(number.rename({"id": "target", "n": "t"}), on="target")
        .group_by("s", "t")
        .agg(
            pl.col("weight").sum(),
            pl.col("shared").sum(),
            traces=pl.col("trace").replace_strict(_TRACE_BITS, return_dtype=pl.Int64).sum(),
        )
    )


def _xml(expr: pl.Expr) -> pl.Expr:
    """A string column made safe as XML text or a double-quoted attribute value;
    characters XML cannot hold become U+FFFD."""
    expr = expr.cast(pl.String).fill_null("").str.replace_all(_NOT_XML, "\ufffd")
    for char, entity in _ESCAPES:
        expr = expr.str.replace_all(char, entity, literal=True)
    return expr


def _write_rows(handle: IO[str], frame: pl.DataFrame, line: pl.Expr) -> None:
    """Write ``line`` (one XML element per row of ``frame``) a chunk of rows at a time."""
    for offset in range(0, frame.height, CHUNK_ROWS):
        text = frame.slice(offset, CHUNK_ROWS).select(line.str.join("\n")).item()
        handle.write(text + "\n")


def write_graphml(graph: FlaggedGraph, path: Path) -> None:
    """Write ``graph`` as GraphML (undirected, the description as graph data)."""
    keys = [
        f'  <key id="{kind}_{name}" for="{kind}" attr.name="{name}" attr.type="{kind_type}"/>'
        for kind, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES))
        for name, kind_type, _ in attributes
    ]
    node = pl.concat_str(
        pl.lit('    <node id="'),
        _xml(pl.col("id")),
        pl.lit('">'),
        *(
            pl.format(f'<data key="node_{name}">{{}}</data>', _xml(pl.col(name)))
            for name, _, _ in NODE_ATTRIBUTES
        ),
        pl.lit("</node>"),
    )
    edge = pl.concat_str(
        pl.format(
            '    <edge source="{}" target="{}">', _xml(pl.col("source")), _xml(pl.col("target"))
        ),
        *(
            pl.format(f'<data key="edge_{name}">{{}}</data>', _xml(pl.col(name)))
            for name, _, _ in EDGE_ATTRIBUTES
        ),
        pl.lit("</edge>"),
    )
    description = _escaped(graph.description())
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(
            "<?xml version='1.0' encoding='utf-8'?>\n"
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
            + "\n".join(keys)
            + '\n  <key id="graph_description" for="graph" attr.name="description" '
            'attr.type="string"/>\n'
            '  <graph edgedefault="undirected">\n'
            f'    <data key="graph_description">{description}</data>\n'
        )
        _write_rows(handle, graph.nodes, node)
        _write_rows(handle, graph.edges, edge)
        handle.write("  </graph>\n</graphml>\n")


def write_gexf(graph: FlaggedGraph, path: Path) -> None:
    """Write ``graph`` as GEXF 1.2 (static, undirected, the description in its meta)."""

    def declarations(kind: str, attributes: tuple[tuple[str, str, str | None], ...]) -> str:
        lines = [
            f'      <attribute id="{name}" title="{name}" type="{gexf_type}"/>'
            for name, _, gexf_type in attributes
            if gexf_type
        ]
        return f'    <attributes class="{kind}" mode="static">\n' + "\n".join(lines) + "\n"

    def values(attributes: tuple[tuple[str, str, str | None], ...]) -> list[pl.Expr]:
        return [
            pl.format(f'<attvalue for="{name}" value="{{}}"/>', _xml(pl.col(name)))
            for name, _, gexf_type in attributes
            if gexf_type
        ]

    node = pl.concat_str(
        pl.format(
            '      <node id="{}" label="{}"><attvalues>', _xml(pl.col("id")), _xml(pl.col("label"))
        ),
        *values(NODE_ATTRIBUTES),
        pl.lit("</attvalues></node>"),
    )
    edge = pl.concat_str(
        pl.format(
            '      <edge id="{}" source="{}" target="{}" weight="{}"><attvalues>',
            pl.col("index"),
            _xml(pl.col("source")),
            _xml(pl.col("target")),
            pl.col("weight"),
        ),
        *values(EDGE_ATTRIBUTES),
        pl.lit("</attvalues></edge>"),
    )
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
            f"  <meta>\n    <creator>detector {__version__}</creator>\n"
            f"    <description>{_escaped(graph.description())}</description>\n  </meta>\n"
            '  <graph defaultedgetype="undirected" mode="static">\n'
            + declarations("node", NODE_ATTRIBUTES)
            + "    </attributes>\n"
            + declarations("edge", EDGE_ATTRIBUTES)
            + "    </attributes>\n    <nodes>\n"
        )
        _write_rows(handle, graph.nodes, node)
        handle.write("    </nodes>\n    <edges>\n")
        _write_rows(handle, graph.edges.with_row_index("index"), edge)
        handle.write("    </edges>\n  </graph>\n</gexf>\n")


def _escaped(text: str) -> str:
    """One Python string escaped as :func:`_xml` escapes a column."""
    return pl.select(_xml(pl.lit(text))).item()


def account_activity(result: ScanResult) -> pl.DataFrame:
    """Per flagged account: its posts in shared near-duplicate groups and its first and
    last post."""
    return (
        result.lazy("posts")
        .join(result.flagged_accounts.lazy().select("account_id"), on="account_id", how="semi")
        .group_by("account_id")
        .agg(
            shared_posts=pl.col("group_id").is_not_null().sum(),
            first_post=pl.col("created_at").min(),
            last_post=pl.col("created_at").max(),
        )
        .collect()
    )


def enforcement(
    result: ScanResult,
    decisions: Decisions = NO_DECISIONS,
    *,
    activity: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Flagged accounts with their cluster, score, the cluster's top reasons, the account's
    own evidence (its posts, those in shared near-duplicate groups, first and last post,
    creation date) and the analyst's decision (``review``: confirm, reject or empty; the
    account's own, else its cluster's), highest score first (then cluster, then account).
    ``activity``: :func:`account_activity`, when already computed."""
    top = result.clusters.select(
        "cluster_id",
        top_reasons=pl.col("reasons").list.head(TOP_REASONS).list.join(" | ").fill_null(""),
    )
    flagged = result.flagged_accounts.select(
        "account_id", "cluster_id", "score", "n_posts", "account_created_at"
    )
    flagged = flagged.with_columns(decisions.of_accounts(flagged).fill_null(""))
    activity = account_activity(result) if activity is None else activity
    return (
        flagged.join(top, on="cluster_id", how="left", maintain_order="left")
        .join(activity, on="account_id", how="left", maintain_order="left")
        .select(ENFORCEMENT)
        .sort(["score", "cluster_id", "account_id"], descending=[True, False, False])
    )


@dataclass(frozen=True)
class Exports:
    """Paths of the files written, by kind ("graphml", "gexf", "enforcement"), and the
    graph they hold."""

    paths: dict[str, Path]
    graph: FlaggedGraph


def write_exports(
    result: ScanResult,
    out_dir: Path,
    *,
    show: bool = False,
    decisions: Decisions = NO_DECISIONS,
    config: ScanConfig | None = None,
) -> Exports:
    """Write flagged_graph.graphml, flagged_graph.gexf (capped by ``config``'s
    export_max_nodes and export_max_edges) and enforcement.csv (with ``decisions``) into
    ``out_dir``, each whole or not at all, naming each on stderr while it is written when
    ``show``."""
    config = config or ScanConfig()
    out = Path(out_dir)
    activity = account_activity(result)
    graph = flagged_graph(
        result,
        max_nodes=config.export_max_nodes,
        max_edges=config.export_max_edges,
        activity=activity,
    )
    writers: dict[str, tuple[str, Callable[[Path], object]]] = {
        "graphml": ("flagged_graph.graphml", lambda path: write_graphml(graph, path)),
        "gexf": ("flagged_graph.gexf", lambda path: write_gexf(graph, path)),
        "enforcement": (
            "enforcement.csv",
            lambda path: enforcement(result, decisions, activity=activity).write_csv(path),
        ),
    }
    paths = {kind: out / name for kind, (name, _) in writers.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for kind, (name, write) in writers.items():
            with step(f"write {name}", show=show):
                write_atomic(paths[kind], write)
    except OSError as exc:
        raise OutputError(f"cannot write exports: {exc.strerror or exc}", file=str(out)) from None
    return Exports(paths, graph)
