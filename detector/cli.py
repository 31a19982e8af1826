"""Command line: ``detector scan``, ``report``, ``explain``, ``review``, ``diff`` and
``calibrate``.

Exit codes (see :mod:`detector.errors`): 0 success, 1 internal error (a bug: the only case
with a traceback), 2 bad option or argument, 3 missing or unreadable input, 4 broken input
file, missing column or every row rejected, 5 output cannot be written, 130 interrupted
(Ctrl-C).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from detector import __version__
from detector.config import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, ScanConfig
from detector.errors import EXIT_INTERRUPTED, DataError, DetectorError, UsageError
from detector.interrupts import held_in_thread_code
from detector.progress import on_terminal, step

if TYPE_CHECKING:
    from detector.result import ScanResult
    from detector.triage.export import Exports

DEFAULTS = ScanConfig()
UNREAD_TIME = "unparseable created_at"  # the reject reason --time-format may cure


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DetectorError into one line on stderr and its documented exit code, and
    Ctrl-C into one line and exit code 130 (never raised inside thread bookkeeping, where
    it would leave a lock held and the exit waiting for it)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with held_in_thread_code():
                return command(*args, **kwargs)
        except DetectorError as error:
            click.echo(f"detector: error: {error.one_line()}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("detector: interrupted (Ctrl-C)", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


def _column_map(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        logical, sep, name = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--column expects LOGICAL=NAME, got {value!r}")
        mapping[logical.strip()] = name.strip()
    return mapping


def _window_map(values: tuple[str, ...]) -> dict[str, str]:
    """``TRACE=DURATION`` options as a dict; a bare duration is the text window."""
    windows = {}
    for value in values:
        trace, sep, duration = value.rpartition("=")
        windows[trace.strip() if sep else "text"] = duration.strip()
    return windows


def _top_reasons(by_reason: dict[str, int], top: int = 3) -> str:
    """`` (reason: count, ...)`` for the commonest reject reasons; empty without rejects."""
    shown = [f"{reason}: {count:,}" for reason, count in list(by_reason.items())[:top]]
    if len(by_reason) > top:
        shown.append(f"{len(by_reason) - top} more reasons")
    return f" ({', '.join(shown)})" if shown else ""


def _summary_lines(s: dict[str, Any], seconds: float) -> list[str]:
    """The scan's outcome for the screen; ``seconds``: the whole run, writing included."""
    return [
        f"Read {s['rows_read']:,} rows: {s['rows_scanned']:,} scanned, "
        f"{s['rows_rejected']:,} rejected{_top_reasons(s['rejects_by_reason'])}.",
        f"{s['posts_too_short']:,} of the {s['rows_scanned']:,} posts are too short for text "
        f"matching (under {s['config']['min_shingles']} shingles).",
        f"{s['clusters']:,} clusters among {s['accounts']:,} accounts; "
        f"{s['flagged_clusters']:,} flagged, holding {s['flagged_accounts']:,} accounts.",
        f"Finished in {seconds:.1f} s, writing the results included.",
    ]


def _require_scanned(summary: dict[str, Any], rejects: Path) -> None:
    """Raise a DataError when rows were read but every one was rejected."""
    if summary["rows_read"] and not summary["rows_scanned"]:
        reason, count = next(iter(summary["rejects_by_reason"].items()))
        hint = "; for times in another form use --time-format" if reason == UNREAD_TIME else ""
        raise DataError(
            f"all {summary['rows_read']:,} rows were rejected, most often for {reason} "
            f"({count:,} rows), listed in {rejects}{hint}"
        )


def write_outputs(
    result: ScanResult, folder: Path, fmt: str, config: ScanConfig, *, show: bool
) -> Exports:
    """Write the tables, report.html and the exports of ``result`` into ``folder``, naming
    each on stderr while it is written when ``show``."""
    from detector.triage import write_exports, write_report

    with step("write tables", show=show):
        result.write(folder, fmt)
    with step("write report.html", show=show):
        write_report(result, folder)
    return write_exports(result, folder, show=show, config=config)


def _graph_note(exports: Exports) -> list[str]:
    """The line saying what the caps left out of the Gephi files; none when nothing was."""
    graph = exports.graph
    return [f"Gephi files: {graph.description()}"] if graph.capped else []


def _engine(
    engine: str, master: str | None, spark_options: dict[str, Any]
) -> Callable[..., ScanResult]:
    """The scan function of ``engine``; a UsageError for Spark options without Spark, or
    Spark without pyspark."""
    if engine == "local":
        if master or spark_options:
            given = ["--master"] * bool(master) + [
                f"--{k.replace('_', '-')}" for k in spark_options
            ]
            raise UsageError(f"{', '.join(given)} need(s) --engine spark")
        from detector.pipeline import scan as local_scan

        return local_scan
    try:
        from detector.spark import SparkOptions, build_session
        from detector.spark import scan as spark_scan
    except ImportError as error:
        raise UsageError(
            f"--engine spark needs PySpark ({error.name} is missing): pip install 'detector[spark]'"
        ) from error
    SparkOptions(**spark_options)  # check them before starting Spark
    session = build_session(master)
    return functools.partial(spark_scan, session, **spark_options)


def _login() -> str:
    """The user's login name, or "" where the system does not know it."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="detector")
def main() -> None:
    """Find coordinated inauthentic behaviour (bot networks) in dumps of social-media posts."""


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the results (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="File format of the result tables.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="LOGICAL=NAME",
    help=f"Read a column under another name, e.g. --column account_id=user_id. LOGICAL is "
    f"one of {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}. Repeatable.",
)
@click.option(
    "--time-format",
    metavar="FORMAT",
    help="strftime format of created_at and account_created_at text, e.g. "
    "'%d/%m/%Y %H:%M' (naive times are UTC), tried before the built-in forms; a "
    "created_at no form reads is rejected as unparseable.",
)
@click.option(
    "--threshold",
    type=float,
    default=DEFAULTS.threshold,
    show_default=True,
    help="Jaccard similarity at which two texts count as near-duplicates.",
)
@click.option(
    "--num-perm",
    type=int,
    default=DEFAULTS.num_perm,
    show_default=True,
    help="MinHash permutations per signature (more: finer similarity, slower).",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULTS.seed,
    show_default=True,
    help="Seed of the MinHash permutations and of community detection.",
)
@click.option(
    "--cjk-ngram",
    type=int,
    default=DEFAULTS.cjk_ngram,
    show_default=True,
    help="Characters per shingle in Chinese/Japanese runs.",
)
@click.option(
    "--word-ngram",
    type=int,
    default=DEFAULTS.word_ngram,
    show_default=True,
    help="Words per shingle in space-delimited text.",
)
@click.option(
    "--min-shingles",
    type=int,
    default=DEFAULTS.min_shingles,
    show_default=True,
    help="Texts with fewer shingles are too short to match and are left out of text "
    "matching (counted in the summary as posts_too_short).",
)
@click.option(
    "--mask-urls/--keep-urls",
    default=DEFAULTS.mask_urls,
    show_default=True,
    help="Replace URLs by one token before matching text.",
)
@click.option(
    "--mask-mentions/--keep-mentions",
    default=DEFAULTS.mask_mentions,
    show_default=True,
    help="Replace @mentions by one token before matching text.",
)
@click.option(
    "--mask-digits/--keep-digits",
    default=DEFAULTS.mask_digits,
    show_default=True,
    help="Replace long digit runs (see --min-digit-run) by one token.",
)
@click.option(
    "--min-digit-run",
    type=int,
    default=DEFAULTS.min_digit_run,
    show_default=True,
    help="Shortest run of digits that --mask-digits replaces.",
)
@click.option(
    "--fold-homoglyphs/--keep-homoglyphs",
    default=DEFAULTS.fold_homoglyphs,
    show_default=True,
    help="Map Cyrillic/Greek look-alikes to Latin letters.",
)
@click.option(
    "--traces",
    default=",".join(DEFAULTS.traces),
    show_default=True,
    help="Co-sharing traces that link accounts, comma-separated: text (near-duplicate "
    "texts), repost (repost_of), reply (reply_to), url, hashtag, mention. A trace whose "
    "column is not in the input is skipped.",
)
@click.option(
    "--window",
    "windows",
    multiple=True,
    metavar="[TRACE=]DURATION",
    help="Co-sharing window of a trace: shares of the same object this close in time link "
    "their accounts, e.g. --window repost=30s --window text=6h (a bare duration sets the "
    "text window). Defaults: "
    + ", ".join(f"{k} {_duration(v)}" for k, v in DEFAULTS.windows.items())
    + ". Repeatable.",
)
@click.option(
    "--neighbours",
    type=int,
    default=DEFAULTS.neighbours,
    show_default=True,
    help="Links per share to the next shares of the same object (keeps the graph "
    "linear in the number of posts; pair counts are exact below this crowding).",
)
@click.option(
    "--min-repeat",
    type=int,
    default=DEFAULTS.min_repeat,
    show_default=True,
    help="Distinct objects an account must co-share within window to enter the account "
    "graph and to stay in a cluster.",
)
@click.option(
    "--min-co-shares",
    type=int,
    default=DEFAULTS.min_co_shares,
    show_default=True,
    help="Distinct objects a pair must co-share within a trace's window for an edge (the "
    "coordination-network-toolkit's minimum edge weight).",
)
@click.option(
    "--min-participation",
    type=int,
    default=DEFAULTS.min_participation,
    show_default=True,
    help="CooRTweet's min_participation: co-shares within window one end of an edge needs.",
)
@click.option(
    "--write-graph",
    is_flag=True,
    help="Write every edge of the account graph to the edges table, not only those inside "
    "clusters.",
)
@click.option(
    "--min-cluster",
    "min_cluster_accounts",
    type=int,
    default=DEFAULTS.min_cluster_accounts,
    show_default=True,
    help="Smallest number of accounts reported as a cluster.",
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False),
    help="Scoring model file written by `detector calibrate` (default: the model shipped "
    "with detector).",
)
@click.option(
    "--flag-threshold",
    type=float,
    help="Cluster score from which its accounts are flagged (default: the model's).",
)
@click.option(
    "--export-max-nodes",
    type=int,
    default=DEFAULTS.export_max_nodes,
    show_default=True,
    help="Accounts in the Gephi files (flagged_graph.graphml/.gexf): the top flagged "
    "clusters by score up to this many.",
)
@click.option(
    "--export-max-edges",
    type=int,
    default=DEFAULTS.export_max_edges,
    show_default=True,
    help="Links in the Gephi files: the heaviest this many among their accounts.",
)
@click.option(
    "--batch-rows",
    type=int,
    default=DEFAULTS.batch_rows,
    show_default=True,
    help="Rows read per batch (bounds memory while reading).",
)
@click.option(
    "--memory-limit",
    help="Memory for the posts kept between reading and writing the tables, e.g. 4G or "
    "500M; past it they are spilled to a temporary folder on disk, which is deleted when "
    "the scan ends (default: a thirty-second of this machine's memory).",
)
@click.option(
    "--spill-dir",
    type=click.Path(file_okay=False),
    help="Folder in which to make the temporary spill folder (default: the folder that "
    "holds --out).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where the scan runs: this machine, or Apache Spark (needs "
    "pip install 'detector[spark]'); the answer is the same.",
)
@click.option(
    "--master",
    help="Spark master for --engine spark: local[*], spark://HOST:PORT, yarn, k8s://... "
    "(default: what spark-submit says, else local[*]).",
)
@click.option(
    "--partitions",
    type=int,
    help="Spark shuffle partitions for --engine spark (default: the session's "
    "spark.sql.shuffle.partitions).",
)
@click.option(
    "--max-bucket",
    type=int,
    help="Sample LSH band buckets larger than this (--engine spark; default: no cap, the "
    "local engine's exact groups).",
)
@click.option(
    "--checkpoint-dir",
    help="Reliable folder (HDFS, object store) for Spark checkpoints (default: local "
    "checkpoints on the executors).",
)
@click.option("--quiet", is_flag=True, help="No progress bars or summary line.")
@_user_errors
def scan(
    inputs: tuple[str, ...],
    out_dir: Path,
    fmt: str,
    columns: tuple[str, ...],
    windows: tuple[str, ...],
    quiet: bool,
    engine: str,
    master: str | None,
    partitions: int | None,
    max_bucket: int | None,
    checkpoint_dir: str | None,
    **options: Any,
) -> None:
    """Scan post dumps (CSV, JSONL, Parquet, optionally .gz; files, folders or globs) and
    write ranked coordinated clusters with their reasons to --out, which appears (or
    replaces an earlier scan's folder) only once every file is written."""
    started = time.perf_counter()
    from detector.kernels import compiling_alongside

    if options["spill_dir"] is None:
        options["spill_dir"] = str(Path(out_dir).absolute().parent)
    config = ScanConfig.from_options(
        columns=_column_map(columns), windows=_window_map(windows), **options
    )
    spark = {"partitions": partitions, "max_bucket": max_bucket, "checkpoint_dir": checkpoint_dir}
    run_scan = _engine(engine, master, {k: v for k, v in spark.items() if v is not None})
    # On screen only, as progress is: a piped or failing run's stderr keeps its one line.
    on_screen = on_terminal(not quiet)

    def say(text: str) -> None:
        if on_screen:
            click.echo(f"detector: {text}", err=True)

    with compiling_alongside(say):
        from detector.result import replacing

        with replacing(out_dir) as partial:
            result = run_scan(list(inputs), config=config, progress=not quiet)
            exports = write_outputs(result, partial, fmt, config, show=on_screen)
    _require_scanned(result.summary, out_dir / f"rejects.{fmt}")
    if not quiet:
        for line in _summary_lines(result.summary, time.perf_counter() - started):
            click.echo(line)
        for line in _graph_note(exports):
            click.echo(line)
        click.echo(f"Results: {out_dir}/  Report: {out_dir / 'report.html'}")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--review",
    "carried",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An earlier scan's review.csv whose decisions to carry over: accounts by id, "
    "clusters to the cluster here that has more than half of its accounts among the "
    "reviewed cluster's. OUT_DIR's own review.csv wins where both decide.",
)
@_user_errors
def report(out_dir: Path, carried: Path | None) -> None:
    """(Re)write report.html and the exports from a saved scan folder, with the decisions
    of its review.csv; each file is replaced whole, so Ctrl-C keeps the earlier one."""
    from detector.result import ScanResult
    from detector.review import REVIEW_FILE, for_scan
    from detector.triage import write_exports, write_report

    show = on_terminal(True)
    with step("read the scan folder", show=show):
        result = ScanResult.load(out_dir)
        decisions = for_scan(result.accounts, own=out_dir / REVIEW_FILE, carried=carried)
    with step("write report.html", show=show):
        path = write_report(result, out_dir, decisions)
    caps = {
        name: value
        for name, value in result.summary.get("config", {}).items()
        if name in ("export_max_nodes", "export_max_edges")
    }
    exports = write_exports(
        result,
        out_dir,
        decisions=decisions,
        config=ScanConfig.from_options(**caps),
        show=show,
    )
    for line in _graph_note(exports):
        click.echo(line)
    click.echo(f"Report: {path}")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--cluster", "cluster_id", type=int, help="The cluster decided on.")
@click.option("--account", "account_id", help="The account decided on.")
@click.option(
    "--confirm/--reject",
    "confirm",
    default=None,
    help="Confirm it as coordinated inauthentic behaviour, or reject the finding.",
)
@click.option("--note", default="", help="Why, for the record.")
@click.option("--reviewer", default=None, help="Who decided (default: the login name).")
@_user_errors
def review(
    out_dir: Path,
    cluster_id: int | None,
    account_id: str | None,
    confirm: bool | None,
    note: str,
    reviewer: str | None,
) -> None:
    """Record a decision on a cluster or an account of a saved scan in OUT_DIR/review.csv;
    `detector report OUT_DIR` then shows it."""
    from detector.review import append

    if (cluster_id is None) == (account_id is None):
        raise UsageError("give one of --cluster ID or --account ID")
    if confirm is None:
        raise UsageError("give one of --confirm or --reject")
    target = f"cluster:{cluster_id}" if account_id is None else f"account:{account_id}"
    decision = "confirm" if confirm else "reject"
    row = append(out_dir, target, decision, note, reviewer or _login())
    size = f" ({int(row['n_accounts']):,} accounts)" if row["n_accounts"] else ""
    click.echo(f"Recorded: {decision} {target}{size} in {out_dir / 'review.csv'}")


@main.command()
@click.argument("old_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("new_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@_user_errors
def diff(old_dir: Path, new_dir: Path, as_json: bool) -> None:
    """List what changed from the scan OLD_DIR to the scan NEW_DIR: clusters new, gone,
    grown, shrunk, flagged or unflagged (matched by their shared accounts), and the
    flagged accounts added and removed."""
    import json

    from detector.diff import as_text, diff_scans

    changes = diff_scans(old_dir, new_dir)
    click.echo(
        json.dumps(changes.as_dict(), indent=2, ensure_ascii=False) if as_json else as_text(changes)
    )


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("cluster_id", type=int)
@_user_errors
def explain(out_dir: Path, cluster_id: int) -> None:
    """Print the evidence for one cluster of a saved scan."""
    from detector.result import ScanResult
    from detector.triage import explain_cluster

    click.echo(explain_cluster(ScanResult.load(out_dir), cluster_id))


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("labels", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "model_out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the refitted model (JSON), for `detector scan --model`.",
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False),
    help="Model whose terms, threshold and regularisation are refitted (default: the "
    "shipped model).",
)
@_user_errors
def calibrate(out_dir: Path, labels: Path | None, model_out: Path, model: str | None) -> None:
    """Refit the scoring model to an analyst's review decisions: LABELS is a CSV of
    account_id,label (1 coordinated, 0 authentic) for accounts of the saved scan OUT_DIR;
    without it, the decisions `detector review` recorded in OUT_DIR/review.csv. Each
    cluster takes the majority label of its labelled members."""
    from detector.calibrate import fit, read_labels, training_set
    from detector.errors import OutputError
    from detector.model import load_model
    from detector.result import ScanResult
    from detector.review import review_labels

    result = ScanResult.load(out_dir)
    decisions = read_labels(labels) if labels else review_labels(out_dir)
    training = training_set(result.clusters, result.accounts, decisions)
    n_coordinated = int(training["label"].sum())
    refitted = fit(
        training,
        load_model(model),
        f"detector calibrate {out_dir} {labels}: {training.height} clusters "
        f"({n_coordinated} coordinated)",
    )
    try:
        model_out.write_text(refitted.to_json(), encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot write model ({error.strerror})", file=str(model_out)) from None
    click.echo(
        f"Fitted on {training.height} labelled clusters ({n_coordinated} coordinated); "
        f"model: {model_out}"
    )


if __name__ == "__main__":
    main()
