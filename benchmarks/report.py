"""RESULTS.md and the scaling plot, written from the results dictionary of a run."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.common import head_commit
from benchmarks.worlds import size_label

GIB = 1024
PACKAGES = ("polars", "numba", "datasketch", "networkx", "coordination-network-toolkit")
COLORS = {"ours": "C0", "baseline": "C1", "toolkit": "C2"}
NAMES = {
    "ours": "ours (detector.pipeline.scan)",
    "baseline": "baseline (benchmarks/baseline.py)",
    "toolkit": "coordination-network-toolkit",
}


def _shell(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()


def machine(command: str, args) -> dict[str, Any]:
    """Where, when and how the figures were taken."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _shell("lscpu").splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "packages": {p: version(p) for p in PACKAGES},
        "command": command,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": head_commit(),
        "dirty": bool(_shell("git", "status", "--porcelain", "--", "detector")),
        "repeats": args.repeats,
        "max_repeat_s": args.max_repeat_s,
    }


def _plain(results: dict) -> list[dict]:
    """Entries of the plain (timed) worlds."""
    return [e for e in results["entries"] if e["scenario"] == "plain"]


def _entry(results: dict, system: str, posts: int, scenario: str = "plain") -> dict | None:
    return next(
        (
            e
            for e in results["entries"]
            if e["system"] == system and e["posts"] == posts and e["scenario"] == scenario
        ),
        None,
    )


def _ok(entry: dict | None) -> bool:
    return entry is not None and entry["status"] == "ok"


def _seconds(entry: dict) -> float:
    return entry["median"]["seconds"]


def _ratio(ours: dict, other: dict | None) -> str:
    """How many times faster ours is than ``other`` (a lower bound if it did not finish)."""
    seconds = None if other is None else _worked_seconds(other)
    if not _ok(ours) or not seconds:
        return "–"
    if _ok(other):
        return f"{seconds / _seconds(ours):,.1f}×"
    return f"> {seconds / _seconds(ours):,.0f}×"


def _worked_seconds(entry: dict) -> float | None:
    """A run's median seconds, or how long it had worked when it was stopped (a lower
    bound on its time); None for a run that failed."""
    if _ok(entry):
        return _seconds(entry)
    if entry["status"] == "dnf":
        return entry["limit_s"]
    if entry["status"] == "oom":
        return entry.get("stopped_after_s")
    return None


def _sizes(results: dict) -> list[int]:
    return sorted({e["posts"] for e in _plain(results)})


def _mark(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**not met**")


def targets(results: dict) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of the issue."""
    rows = []
    ten, one = _entry(results, "ours", 10_000_000), _entry(results, "ours", 1_000_000)
    target = "10M posts end to end ≤ 60 s, peak ≤ 4 GiB"
    if _ok(ten):
        s, mb = _seconds(ten), ten["median"]["peak_rss_mb"]
        rows.append((target, f"{s:.1f} s, {mb / GIB:.2f} GiB", _mark(s <= 60 and mb <= 4 * GIB)))
    else:
        rows.append((target, "–", _mark(None)))
    fifty = _entry(results, "ours", 50_000_000)
    target = "50M posts complete, peak ≤ 12 GiB"
    if fifty is None:
        rows.append((target, "–", _mark(None)))
    elif _ok(fifty):
        s, mb = _seconds(fifty), fifty["median"]["peak_rss_mb"]
        rows.append((target, f"{s:.1f} s, {mb / GIB:.2f} GiB", _mark(mb <= 12 * GIB)))
    else:
        rows.append((target, fifty.get("note", fifty["status"]), _mark(False)))
    rows.append(
        (
            "1M posts ≤ 15 s",
            f"{_seconds(one):.1f} s" if _ok(one) else "–",
            _mark(_seconds(one) <= 15 if _ok(one) else None),
        )
    )
    single = [
        k for k in results.get("kernel", []) if k["system"].startswith("ours") and k["threads"] == 1
    ]
    rows.append(
        (
            "kernel ≥ 300k posts/s per core",
            f"{single[0]['posts_s_per_core']:,} posts/s" if single else "–",
            _mark(single[0]["posts_s_per_core"] >= 300_000 if single else None),
        )
    )
    base = _entry(results, "baseline", 1_000_000)
    bound = None if base is None else _worked_seconds(base)
    if _ok(one) and bound:
        ratio = _ratio(one, base)
        rows.append(
            (
                "≥ 10× the baseline's throughput on 1M posts",
                ratio,
                _mark(bound / _seconds(one) >= 10),
            )
        )
    else:
        rows.append(("≥ 10× the baseline's throughput on 1M posts", "–", _mark(None)))
    rows.append(_toolkit_target(results))
    rows.extend(_quality_targets(results, "plain"))
    rows.extend(_quality_targets(results, "evasion"))
    return rows


def _toolkit_target(results: dict) -> tuple[str, str, str]:
    """Ours against the toolkit at the largest size it finishes; if it finishes none, a
    lower bound from the smallest size it was stopped at."""
    target = "≥ 50× the toolkit at the largest size it finishes"
    toolkit = [e for e in _plain(results) if e["system"] == "toolkit"]
    finished = [e for e in toolkit if _ok(e)]
    stopped = [e for e in toolkit if not _ok(e) and _worked_seconds(e)]
    if finished:
        top = max(finished, key=lambda e: e["posts"])
        measured = "{:,.1f}×"
    elif stopped:
        top = min(stopped, key=lambda e: e["posts"])
        measured = f"> {{:,.0f}}× ({top['note']} at {size_label(top['posts'])} posts)"
    else:
        return target, "–", _mark(None)
    ours = _entry(results, "ours", top["posts"])
    if not _ok(ours):
        return target, "–", _mark(None)
    speedup = _worked_seconds(top) / _seconds(ours)
    return f"{target} ({size_label(top['posts'])})", measured.format(speedup), _mark(speedup >= 50)


def _quality_targets(results: dict, scenario: str) -> list[tuple[str, str, str]]:
    measured = [
        e
        for e in results["entries"]
        if e["system"] == "ours" and e["scenario"] == scenario and _ok(e)
    ]
    if not measured:
        return [(f"quality targets, {scenario} world", "–", _mark(None))]
    top = max(measured, key=lambda e: e["posts"])
    q, at = top["quality"], f" ({scenario} world, {size_label(top['posts'])} posts)"
    rows = []
    if q["campaigns"]:
        largest = q["campaigns"][0]
        rows.append(
            (
                f"recall ≥ 0.95 on the largest campaign{at}",
                f"{largest['recall']:.4f} ({largest['campaign']}, "
                f"{largest['accounts']:,} accounts)",
                _mark(largest["recall"] >= 0.95),
            )
        )
    rows.append((f"precision ≥ 0.99{at}", f"{q['precision']:.4f}", _mark(q["precision"] >= 0.99)))
    if q["bursts"]:
        worst = max(q["bursts"], key=lambda b: b["flagged_share"])
        rows.append(
            (
                f"authentic-burst participants flagged < 0.2%{at}",
                f"{100 * worst['flagged_share']:.2f}% (worst: {worst['burst']})",
                _mark(worst["flagged_share"] < 0.002),
            )
        )
    for campaign in q["campaigns"][1:]:
        rows.append(
            (
                f"recall on {campaign['campaign']}{at}",
                f"{campaign['recall']:.4f} ({campaign['accounts']:,} accounts)",
                "reported",
            )
        )
    return rows


def _speed_table(results: dict) -> list[str]:
    lines = [
        "| posts | system | status | seconds | posts/s | peak RSS (MB) | ours faster by "
        "| ours' memory share | runs |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n in _sizes(results):
        ours = _entry(results, "ours", n)
        for e in (x for x in _plain(results) if x["posts"] == n):
            if not _ok(e):
                lines.append(
                    f"| {size_label(n)} | {NAMES[e['system']]} | {e['note']} "
                    f"| – | – | – | {_ratio(ours, e)} | – | – |"
                )
                continue
            m = e["median"]
            share = f"{ours['median']['peak_rss_mb'] / m['peak_rss_mb']:.2f}" if _ok(ours) else "–"
            faster = "1×" if e["system"] == "ours" else _ratio(ours, e)
            lines.append(
                f"| {size_label(n)} | {NAMES[e['system']]} | ok | {m['seconds']:,.2f} "
                f"| {e['posts_s']:,} | {m['peak_rss_mb']:,.0f} | {faster} "
                f"| {share} | {len(e['runs'])} |"
            )
    return lines


def _stage_table(results: dict) -> list[str]:
    ours = [e for e in _plain(results) if e["system"] == "ours" and _ok(e)]
    if not ours:
        return []
    stages = list(ours[0]["median"]["stages"])
    lines = [
        "| posts | " + " | ".join(stages) + " | end to end |",
        "|---|" + "---:|" * (len(stages) + 1),
    ]
    for e in ours:
        cells = " | ".join(f"{e['median']['stages'].get(s, 0):.2f}" for s in stages)
        lines.append(f"| {size_label(e['posts'])} | {cells} | {_seconds(e):.2f} |")
    return lines


def _growth_table(results: dict) -> list[str]:
    """How many times each figure grows from one measured size to the next: the posts,
    what the work grows with besides them, and each stage's seconds."""
    ours = [e for e in _plain(results) if e["system"] == "ours" and _ok(e)]
    ours = [e for e in ours if "work" in e["median"]]
    if len(ours) < 2:
        return []
    work = list(ours[0]["median"]["work"])
    stages = list(ours[0]["median"]["stages"])
    head = ["from", "to", "posts", *(w.replace("_", " ") for w in work), *stages, "end to end"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for before, after in itertools.pairwise(ours):
        b, a = before["median"], after["median"]
        ratios = [
            after["posts"] / before["posts"],
            *(a["work"][w] / max(b["work"][w], 1) for w in work),
            *(a["stages"].get(s, 0) / max(b["stages"].get(s, 0), 1e-3) for s in stages),
            _seconds(after) / _seconds(before),
        ]
        cells = " | ".join(f"{r:.2f}" for r in ratios)
        lines.append(f"| {size_label(before['posts'])} | {size_label(after['posts'])} | {cells} |")
    return lines


def _quality_table(results: dict) -> list[str]:
    scored = [e for e in results["entries"] if "quality" in e]
    if not scored:
        return []
    campaigns = sorted({c["campaign"] for e in scored for c in e["quality"]["campaigns"]})
    bursts = sorted({b["burst"] for e in scored for b in e["quality"]["bursts"]})
    head = (
        ["posts", "world", "system", "precision", "recall", "F1", "ARI", "flagged"]
        + [f"recall: {c}" for c in campaigns]
        + [f"flagged: {b}" for b in bursts]
    )
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|" + "---:|" * (len(head) - 3)]
    for e in scored:
        q = e["quality"]
        recall = {
            c["campaign"]: f"{c['recall']:.3f} (of {c['accounts']:,})" for c in q["campaigns"]
        }
        share = {
            b["burst"]: f"{100 * b['flagged_share']:.2f}% (of {b['accounts']:,})"
            for b in q["bursts"]
        }
        cells = [
            size_label(e["posts"]),
            e["scenario"],
            NAMES[e["system"]],
            f"{q['precision']:.4f}",
            f"{q['recall']:.4f}",
            f"{q['f1']:.4f}",
            "–" if q["ari"] is None else f"{q['ari']:.4f}",
            f"{q['flagged_accounts']:,}",
        ]
        cells += [recall.get(c, "–") for c in campaigns] + [share.get(b, "–") for b in bursts]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _kernel_table(results: dict) -> list[str]:
    lines = ["| kernel | threads | posts/s | posts/s per core |", "|---|---:|---:|---:|"]
    for k in results.get("kernel", []):
        lines.append(
            f"| {k['system']} | {k['threads']} | {k['posts_s']:,} | {k['posts_s_per_core']:,} |"
        )
    return lines


def _world_table(results: dict) -> list[str]:
    lines = ["| world | posts | accounts | generated in |", "|---|---:|---:|---:|"]
    for label, w in results["worlds"].items():
        made = "cached" if w["generate_s"] is None else f"{w['generate_s']:.1f} s"
        lines.append(f"| {label} | {w['posts']:,} | {w['accounts']:,} | {made} |")
    return lines


def _pct(share: float) -> str:
    return f"{100 * share:.2f}%"


def _traces_section(traces: dict) -> list[str]:
    """Trace families and the real data sets (``python -m benchmarks.traces``)."""
    lines = [
        "## Every trace: scenario families and real data",
        "",
        f"Written by `{traces['command']}` on {traces['date']} (default scan options; one run "
        "each).",
        "",
    ]
    for world in traces["families"]:
        lines += [
            f"Trace world, {world['posts']:,} posts (seed {world['seed']}), scanned in "
            f"{world['seconds']:.1f} s: precision {world['precision']:.4f}, recall "
            f"{world['recall']:.4f}, ARI {world['ari']}.",
            "",
            "| family | kind | accounts | flagged |",
            "|---|---|---|---|",
            *(
                f"| {c['campaign']} | campaign | {c['accounts']:,} | {_pct(c['recall'])} |"
                for c in world["campaigns"]
            ),
            *(
                f"| {b['burst']} | authentic | {b['accounts']:,} | {_pct(b['flagged_share'])} |"
                for b in world["bursts"]
            ),
            "",
        ]
    if weibo := traces.get("weibo"):
        lines += [
            f"Weibo (CHECKED, authentic), every trace on: {weibo['flagged_accounts']:,} of "
            f"{weibo['accounts']:,} accounts flagged ({_pct(weibo['flagged_share'])}; target "
            f"<= 0.05%) in {weibo['clusters']:,} clusters; {weibo['rows_scanned']:,} rows "
            f"scanned, {weibo['rows_rejected']:,} rejected, {weibo['seconds']:.1f} s. Edges "
            f"by trace: {weibo['edges_by_trace']}.",
            "",
        ]
    if coor := traces.get("coortweet"):
        lines += [
            "CooRTweet Russian co-retweets, co-retweet graph at 60 s "
            "(`--traces repost --window repost=60s --min-repeat 1 --neighbours 1000 "
            "--write-graph`):",
            "",
            "| min edge weight | edges (ours) | edges (toolkit) | accounts (ours) | "
            "accounts (toolkit) |",
            "|---|---|---|---|---|",
            *(
                f"| {g['min_weight']} | {g['edges']:,} | {g['toolkit_edges']:,} | "
                f"{g['accounts']:,} | {g['toolkit_accounts']:,} |"
                for g in coor["graph"]
            ),
            "",
            f"A default scan of the same file: {coor['default_scan']}.",
            "",
        ]
    return lines


def _calibration_section(calibration: dict) -> list[str]:
    """The scoring model, leave one family out (``python -m benchmarks.calibrate``)."""
    lofo = calibration["leave_one_family_out"]
    model = calibration["model"]
    return [
        "## Scoring model: leave one family out",
        "",
        f"Written by `{calibration['command']}` on {calibration['date']}: "
        f"{calibration['clusters']} clusters ({calibration['coordinated_clusters']} "
        f"coordinated) of {calibration['worlds']} scanned worlds. For each family, a model "
        "fitted without that family's clusters judges its accounts in every world (summed below): "
        "recall for a campaign, share flagged for an authentic family (a family that forms "
        "no cluster is never flagged; its accounts flagged sit in other families' clusters).",
        "",
        "| family | kind | accounts | clusters | flagged (held out) |",
        "|---|---|---|---|---|",
        *(
            f"| {f['family']} | {f['kind']} | {f['accounts']:,} | {f['clusters']} | "
            f"{_pct(f['flagged_share'])} |"
            for f in lofo["families"]
        ),
        "",
        f"Every cluster judged by the model that did not see its family: precision "
        f"{lofo['precision']:.4f}, recall {lofo['recall']:.4f}. The shipped model "
        f"(`detector/models/default.json`, all families) in sample: precision "
        f"{calibration['in_sample']['precision']:.4f}, recall "
        f"{calibration['in_sample']['recall']:.4f}; flag threshold {model['threshold']:g}.",
        "",
        "| term | coefficient |",
        "|---|---|",
        *(
            f"| `{term}` | {c:+.4f} |"
            for term, c in zip(model["features"], model["coefficients"], strict=True)
        ),
        f"| intercept | {model['intercept']:+.4f} |",
        "",
    ]


def _evasive_section(evasive: dict) -> list[str]:
    """Issue 10's evasion families under a default scan (``python -m benchmarks.evasive``)."""
    lines = ["## Evasive families (issue 10)", ""]
    for world in evasive["worlds"]:
        lines += [
            f"Written by `{evasive['command']}` on {evasive['date']}: evasion world of "
            f"{world['posts']:,} posts (seed {world['seed']}), default scan in "
            f"{world['seconds']:.1f} s; precision {world['precision']:.4f}, recall "
            f"{world['recall']:.4f}, {world['flagged_accounts']:,} accounts flagged.",
            "",
            "| family | kind | accounts | flagged |",
            "|---|---|---|---|",
            *(
                f"| {f['family']} | {f['class']} | {f['accounts']:,} | "
                f"{_pct(f.get('recall', f.get('flagged_share', 0.0)))} |"
                for f in world["families"]
            ),
            "",
        ]
    return lines


def _first_run_section(first: dict) -> list[str]:
    """The README's demo scan with an empty kernel cache, then a filled one
    (``python -m benchmarks.first_run``)."""
    rows = [
        f"| {k} | {r['cold']['printed_s']:.1f} | {r['cold']['wall_s']:.1f} | "
        f"{r['warm']['printed_s']:.1f} | {r['warm']['wall_s']:.1f} |"
        for k, r in enumerate(first["runs"], 1)
    ]
    return [
        "## First run: the demo scan on a fresh install",
        "",
        f"Written by `{first['command']}` on {first['date']} at commit `{first['commit']}`: "
        "`detector scan fixtures/demo.csv.gz` (40,000 posts) in a process of its own, cold "
        "(numba's cache in a new empty folder: every kernel compiled, as on a fresh install) "
        "then warm (the cache that run filled), once a round. *Printed*: the time the scan "
        "prints, writing every output included (target: 15 s cold); *wall*: the whole "
        "process, interpreter start-up and imports included. Medians: "
        f"**{first['cold_printed_s']:.1f} s cold**, {first['warm_printed_s']:.1f} s warm. "
        "This machine's speed that hour: the signature kernel signed "
        f"{first['kernel_posts_s']:,} of the demo's posts a second on one thread.",
        "",
        "| round | cold, printed (s) | cold, wall (s) | warm, printed (s) | warm, wall (s) |",
        "|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]


def _linearity_section(linearity: dict) -> list[str]:
    """Degenerate dumps at doubling sizes (``python -m benchmarks.linearity``)."""
    return [
        "## Linear in one account's and one object's posts",
        "",
        f"Written by `{linearity['command']}` on {linearity['date']} at commit "
        f"`{linearity['commit']}` ({_runs(linearity['runs'])}, "
        "`detector scan` in a process of its own, warm kernels). Seconds: the scan's own, "
        "reading to report; wall: the whole process, writing every output included; medians "
        "of the runs, the largest peak. A time ratio near the size ratio is linear.",
        "",
        "| case | posts | graph edges | seconds | graph stage (s) | wall (s) | peak memory "
        "(MB) | time ratio | size ratio |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_linearity_row(r) for r in linearity["runs"]),
        "",
    ]


def _tiles_section(tiles: dict) -> list[str]:
    """A world and copies of it that meet nothing of each other
    (``python -m benchmarks.tiles``): time against posts at constant work per post."""
    return [
        "## Linear in posts at constant work per post",
        "",
        f"Written by `{tiles['command']}` on {tiles['date']} at commit `{tiles['commit']}` "
        "(medians of the *runs*; `benchmarks.worker` as for the plain worlds, "
        "every output written). A larger plain world holds more work per post (above: its "
        "graph edges grow faster than its posts); here each world is copies of the "
        f"{size_label(tiles['tile_posts']).upper()}-post plain world, each copy in an alphabet and "
        "with ids of its own, so that no copy meets another: the work per post is the "
        "one copy's, and a scan linear in posts takes the copies' number times as long. "
        "The worlds are scanned in rounds, each world once a round in turn, and every ratio "
        "is taken within a round (the machine's speed drifts more between hours than a scan "
        "takes): *time ratio*, the median over the rounds of the scan's time against that "
        "round's one-copy scan, the rounds' lowest and highest in brackets; *against the row "
        "above*: the same against the world one row up, the copies' ratio to it in brackets; "
        "*each copy added*: the seconds that each copy past the row above's added to the "
        "round's scan, and their ratio to that round's one-copy time (medians over the "
        "rounds): the same down the rows where time grows linearly from one copy on, 1 where "
        "it grows in proportion to posts; "
        "*CPU seconds*: of every thread of the scan, the kernel's part (page faults, reads, "
        "writes) in brackets, and *CPU ratio* against one copy as the time ratio is taken; "
        "*disk*: what the scan had the disk read (not what the page cache served) and what "
        "it wrote to files; *stalled*: the seconds in which the whole machine (the scan "
        "alone on it) stood waiting on the disk, and on memory (Linux's pressure stall "
        'information, its "full" totals), and the time ratio taken of the seconds less '
        "these; *freed to the host*: the memory the guest's free page reporting handed back "
        "to the host during the scan (where its kernel counts it); *page cache paged out*: "
        "what DAMON's proactive reclaim dropped from the page cache during the scan (files "
        "left untouched for a while, spilled batches among them); then each stage's ratio "
        "to one copy, medians over the rounds. *Host reclaim* as-is is the machine as it "
        f"comes{_host_reclaim_found(tiles)}; off, neither during the scans "
        "(`--host-reclaim off` sets `page_reporting_order` past the largest order and "
        "stops the kdamonds that page out, then puts both back), as on a machine of its "
        "own; the settings alternate within each round.",
        "",
        *_tiles_table(tiles),
    ]


def _tiles_host_reclaim_section(tiles: dict) -> list[str]:
    """A tiles run that alternates the host's reclaim as-is and off, beside the one above."""
    return [
        "### The host's reclaim as the machine has it, against none",
        "",
        f"Written by `{tiles['command']}` on {tiles['date']} at commit `{tiles['commit']}`: "
        "the measure above, with the host's reclaim as the machine has it and off "
        "alternating within each round. Each setting's one-copy scan follows the other "
        "setting's scans and meets the machine as they left it (the memory its host took "
        "back, the page cache), so the off rows here are read beside the run above, whose "
        "every scan ran with the host's reclaim off.",
        "",
        *_tiles_table(tiles),
    ]


def _tiles_table(tiles: dict) -> list[str]:
    """A tiles run's table, a row per setting and world, and the line through its worlds."""
    runs = [r for r in tiles["runs"] if "failed" not in r]
    stages = list(runs[0]["stages"]) if runs else []
    head = [
        "host reclaim", "copies", "posts", "runs", "unique texts", "graph edges", "seconds",
        "peak RSS (MB)", "precision", "recall", "flagged", "time ratio (rounds' range)",
        "against the row above",
        "seconds each copy added (against one copy)",
        "CPU seconds (kernel's)", "CPU ratio", "disk read / written (GiB)",
        "stalled on disk / memory (s)", "ratio less the stalls", "freed to the host (GiB)",
        "page cache paged out (GiB)",
        *(f"{s} ratio" for s in stages),
    ]  # fmt: skip
    lines = [
        "| " + " | ".join(head) + " |",
        "|---|" + "---:|" * (len(head) - 1),
    ]
    above = None
    for r in tiles["runs"]:
        setting = r["host_reclaim"]
        if above is not None and above["host_reclaim"] != setting:
            above = None  # a setting's rows start again from one copy
        if "failed" in r:
            lines.append(
                f"| {setting} | {r['copies']} | {r['posts']:,} | – | {r['failed']} |"
                + " – |" * (len(head) - 5)
            )
            continue
        rounds = r["round_ratios"]
        ratios = [
            f"{r['time_ratio']:.2f} ({min(rounds):.2f}–{max(rounds):.2f})" if rounds else "–",
            f"{r['above_ratio']:.2f} ({r['copies'] / above['copies']:.3g}×)" if above else "–",
            _added_cell(r, above),
            *_usage_cells(r),
            f"{r['reported_mb'] / 1024:.1f}" if "reported_mb" in r else "–",
            f"{r['paged_out_mb'] / 1024:.1f}" if "paged_out_mb" in r else "–",
            *(f"{r['stage_ratios'][s]:.2f}" if s in r["stage_ratios"] else "–" for s in stages),
        ]
        lines.append(
            f"| {setting} | {r['copies']} | {r['posts']:,} | {r['runs']} "
            f"| {r['work']['unique_texts']:,} "
            f"| {r['work']['graph_edges']:,} | {r['seconds']:.2f} | {r['peak_rss_mb']:,.0f} "
            f"| {r['precision']:.4f} | {r['recall']:.4f} | {r['flagged_accounts']:,} | "
            + " | ".join(ratios)
            + " |"
        )
        above = r
    for setting, line in tiles.get("lines", {}).items():
        lines += [
            "",
            f"Host reclaim {setting}: the least-squares line through the worlds' times adds "
            f"{line['seconds_per_copy']:.1f} s a copy, from {line['seconds_at_none']:.1f} s "
            f"at none; the world farthest from it is {100 * line['largest_gap_share']:.1f}% "
            "of its time off the line.",
        ]
    return [*lines, ""]


def _host_reclaim_found(tiles: dict) -> str:
    """What this machine's host reclaims, in brackets; nothing where it reclaims nothing."""
    found, parts = tiles["host_reclaim"], []
    if found["page_reporting"]:
        parts.append(
            "hands the memory its processes free back to the host, which must find and "
            "clear it again when it is touched (the fresh memory section below)"
        )
    if found["damon_pageout"]:
        parts.append(
            "drops from the page cache what was not touched for a while (a kdamond paging "
            "out), so that files read back long after they were written come from the disk "
            "again"
        )
    return f" (this one {'; and '.join(parts)})" if parts else ""


def _added_cell(run: dict, above: dict | None) -> str:
    """The seconds each copy past the row above's added (against one copy's time); the
    first row's own time; a dash for runs recorded before these were."""
    if above is None:
        return f"{run['seconds']:.1f} (1.00)"
    if "added_seconds" not in run:
        return "–"
    return f"{run['added_seconds']:.1f} ({run['added_ratio']:.2f})"


def _usage_cells(run: dict) -> list[str]:
    """A tiles run's CPU seconds (the kernel's), CPU ratio, disk traffic and stalls; dashes
    for figures measured before the worker counted them."""
    cells = ["–"] * 5
    if "cpu_s" in run:
        cells[:3] = [
            f"{run['cpu_s']:.1f} ({run['sys_s']:.1f})",
            f"{run['cpu_ratio']:.2f}",
            f"{run['disk_read_mb'] / 1024:.1f} / {run['disk_written_mb'] / 1024:.1f}",
        ]
    if run.get("unstalled_ratio") is not None:
        cells[3:] = [
            f"{run['disk_stall_s']:.1f} / {run['memory_stall_s']:.1f}",
            f"{run['unstalled_ratio']:.2f}",
        ]
    return cells


def _runs(runs: list[dict]) -> str:
    """ "3 runs each" (runs recorded before repeats were: one)."""
    counts = {r.get("runs", 1) for r in runs}
    return "one run each" if counts == {1} else f"{max(counts)} runs each"


def _linearity_row(r: dict) -> str:
    head = f"| {r['case']} | {r['posts']:,} |"
    if "failed" in r:
        return f"{head} – | {r['failed']} | – | – | {r['peak_rss_mb']:,.0f} | – | – |"
    return (
        f"{head} {r['graph_edges']:,} | {r['seconds']:.2f} | {r['stages']['graph']:.2f} | "
        f"{r['wall_s']:.1f} | {r['peak_rss_mb']:,.0f} | {r.get('ratio', '–')} | "
        f"{r.get('size_ratio', '–')} |"
    )


def _sampled(figures: dict, kind: str) -> str:
    """ "96% of 2,000 sampled" for a system's sampled pairs of ``kind``."""
    share, n = figures[f"sampled_{kind}_similar"], figures[f"sampled_{kind}"]
    return "none sampled" if share is None else f"{100 * share:.0f}% of {n:,} sampled"


def _freed_memory_section(freed: dict) -> list[str]:
    """What fresh memory costs the machine by how long it had been free
    (``python -m benchmarks.freed_memory``)."""
    gb = freed["bytes"] / 1e9
    base, first = freed["fills"][0]["seconds"], freed["fills"][0]["pause_s"]
    reporting = (
        "hands the memory its processes free back to the host (the kernel's page_reporting "
        "module is loaded)"
        if freed["page_reporting"]
        else "does not report free memory to a host (no page_reporting module)"
    )
    lines = [
        "### Fresh memory, by how long it had been free",
        "",
        f"Written by `{freed['command']}` on {freed['date']} at commit `{freed['commit']}`. "
        f"Filling a new array of {freed['bytes'] / 2**30:g} GiB on one thread, an array as "
        "large having been freed the given seconds before (medians of the rounds, lowest "
        f"and highest in brackets). This machine {reporting}. A scan frees and allocates "
        "arrays of hundreds of MB stage after stage; a larger scan's stages last longer, so "
        "more of what it allocates has been free long enough to be taken back, at the cost "
        "the table's last rows show.",
        "",
        f"| freed before (s) | fill seconds | GB/s | against freed {first:g} s before |",
        "|---:|---:|---:|---:|",
    ]
    for fill in freed["fills"]:
        lines.append(
            f"| {fill['pause_s']:g} | {fill['seconds']:.2f} ({fill['lowest']:.2f}–"
            f"{fill['highest']:.2f}) | {gb / fill['seconds']:.1f} | "
            f"{fill['seconds'] / base:.1f}× |"
        )
    return [*lines, ""]


def _stage_section(stage: dict) -> list[str]:
    """Like for like: normalise + MinHash + LSH against datasketch (``benchmarks.stage``)."""
    ours, theirs = stage["systems"]["ours"], stage["systems"]["datasketch"]

    def row(name: str, s: dict, what: str) -> str:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in s["stages"].items())
        return (
            f"| {name} | {what} | {s['cold_s']:.2f} | {s['warm_s']:.2f} ({stages}) | "
            f"{s['peak_rss_mb']:,.0f} | {s['matched_texts']:,} | {s['groups']:,} | "
            f"{s['grouped_texts']:,} | {s['pairs']:,} |"
        )

    return [
        "## Like for like: normalise + MinHash + LSH",
        "",
        f"Written by `{stage['command']}` on {stage['date']}: the {stage['texts']:,} distinct "
        f"texts of the first {stage['posts']:,} posts, each system in its own process, once "
        f"cold (first call in a fresh process; ours with an empty numba cache, so compiling "
        f"is included) and {stage['repeats']} times warm (median). Ours normalises inside "
        "its time; datasketch is given the texts already normalised by ours. Peak RSS is "
        "the process's, cold and warm runs included.",
        "",
        "| system | what it does | cold (s) | warm (s) | peak RSS (MB) | texts matched "
        "| groups of ≥ 2 | texts in them | pairs grouped |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        row(
            "ours",
            ours,
            "normalise, numba shingles + MinHash (128), LSH bands for 0.5 with each "
            "candidate verified by signature agreement, union-find",
        ),
        row(
            "datasketch",
            theirs,
            "Python shingles, `MinHash.generator` (128), `MinHashLSH(0.5)` insert + query, "
            "union-find over unverified candidates",
        ),
        "",
        f"datasketch takes **{stage['warm_ratio']}×** our time warm and "
        f"{stage['cold_ratio']}× cold. Pairs of texts both group together: "
        f"{stage['pairs_in_both']:,} (ours groups {ours['pairs']:,}, datasketch "
        f"{theirs['pairs']:,}: its candidates are not verified, so chance band collisions "
        "chain groups together). Exact Jaccard similarity of shingle sets at or above 0.5 "
        f"in a sample of the pairs each groups: ours {_sampled(ours, 'pairs')}, datasketch "
        f"{_sampled(theirs, 'pairs')}; of the pairs only one of them groups: ours "
        f"{_sampled(ours, 'own_pairs')}, datasketch {_sampled(theirs, 'own_pairs')}. "
        "Texts matched: at least 5 shingles (ours counts shingles, datasketch distinct ones).",
        "",
    ]


def _spark_section(spark: dict) -> list[str]:
    """Local and Spark engines side by side, partitions scaling and the billion-post
    note (``python -m benchmarks.spark``)."""
    runs = spark["runs"]
    local = {r["posts"]: r["seconds"] for r in runs if r["engine"] == "local"}
    on_spark = [r for r in runs if r["engine"] != "local"]
    mb = 1 << 20
    rows = [
        f"| {size_label(r['posts'])} | {r['engine']} | {r.get('partitions', '–')} | "
        f"{r['seconds']:.1f} | "
        + (
            f"{r['seconds'] / local[r['posts']]:.1f}× | "
            f"{'yes' if r['same_answer'] else '**no**'} | "
            f"{r['stages']} | {r['tasks']:,} | {r['shuffle_write_bytes'] / mb:,.0f} | "
            f"{r['shuffle_read_bytes'] / mb:,.0f} | {_driver_posts(r)} | "
            f"{_mb(r.get('driver_peak_rss_mb'))} |"
            if "partitions" in r
            else f"1× | – | – | – | – | – | all | {_mb(r.get('peak_rss_mb'))} |"
        )
        for r in runs
    ]
    stage_names = ("ingest", "minhash", "lsh", "collect", "graph", "cluster", "score", "report")
    stages = [
        f"| {size_label(r['posts'])} | {r['partitions']} | "
        + " | ".join(f"{r['stages_s'].get(n, 0):.1f}" for n in stage_names)
        + " |"
        for r in on_spark
    ]
    lines = [
        "## Spark engine (issue 12)",
        "",
        f"Written by `{spark['command']}` on {spark['date']} at commit `{spark['commit']}`, "
        f"{spark['cores']} cores, load average {spark['load_average']} (it counts the "
        "benchmark's own JVM and Python workers: two task slots on two cores keep it near "
        "two or above). The world is cut into 16 Parquet parts, which both "
        "engines scan (the local engine through `detector scan`, every output written); the "
        "shuffle partitions are swept at the smallest size, a larger one runs once; "
        "*same answer*: the same flagged accounts and the same clusters (member"
        " sets) as the local engine. Spark runs in `local[2]`: one JVM with two task slots, "
        "so it pays Spark's per-stage and per-task costs (a Python worker call per task and "
        "Arrow batch, a shuffle per grouping) with none of a cluster's parallelism. On one "
        "machine the Spark engine is overhead, never a speed-up: choose it for data one "
        "machine cannot hold.",
        "",
        "| posts | engine | shuffle partitions | seconds | vs local | same answer | stages | "
        "tasks | shuffle written (MB) | shuffle read (MB) | held by the Spark driver "
        "| peak RSS (MB; Spark: the driver's) |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Stage seconds of the Spark runs. In Spark: read + validate, normalise + MinHash, "
        "buckets + components; collect: the texts of the groups two or more accounts share "
        "numbered and grouped in Spark as the local engine numbers and groups texts "
        "(`detector.spark.groups`), and to the driver the accounts (each one's post count, "
        "first and last post), the keys of the shared short-text groups (a row per group, "
        "ranked there); the raw texts and the trace columns stay cached in Spark, the texts "
        "fetched by row for the few the tables quote; then, in the local engine's buckets + "
        "components stage, the posts of shared groups marked where they lie "
        "(`detector.spark.shared`: their groups numbered from a row per group, the spun groups "
        "and their texts' copy sets found group by group in Spark, and the rewordings in them "
        "marked on the driver from those groups' written posts and texts, the only posts and "
        "texts it collects); graph: the object traces (reposts, replies, URLs, hashtags, "
        "mentions: `detector.spark.objects`) and the text traces built in Spark, then the "
        "account graph's edges, communities and clusters across tasks and each cluster's "
        "evidence in buckets of whole clusters (`detector.spark.accounts`); cluster: the "
        "buckets' results put together on the driver; score on the driver; tables: each "
        "cluster's examples and the groups table made in Spark and collected, the posts and "
        "rejects tables written by the executors as Parquet parts (the rejects within "
        "collect):",
        "",
        "| posts | partitions | read + validate | normalise + MinHash | buckets + components "
        "| collect | graph | cluster | score | tables |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *stages,
        "",
    ]
    return lines + _billion_note(spark)


def _billion_note(spark: dict) -> list[str]:
    """What a billion-post scan needs, scaled linearly from the largest measured world."""
    largest = max(r["posts"] for r in spark["runs"])
    runs = [r for r in spark["runs"] if r["engine"] != "local" and r["posts"] == largest]
    if not runs:
        return []
    scale = 1e9 / largest
    shuffle = min(r["shuffle_write_bytes"] for r in runs) * scale
    best = min(runs, key=lambda r: r["seconds"])
    in_spark = sum(best["stages_s"].get(n, 0) for n in ("ingest", "minhash", "lsh", "graph"))
    driver_s = sum(best["stages_s"].get(n, 0) for n in ("collect", "cluster", "score"))
    core_hours = in_spark * spark["cores"] * scale / 3600
    return [
        "### What a billion-post scan needs",
        "",
        f"Scaled linearly from the {size_label(largest)} runs above, on paper"
        f"{_growth_caveat(spark['runs'], largest)}:",
        "",
        f"- **Shuffle**: {min(r['shuffle_write_bytes'] for r in runs) / largest:,.0f} bytes "
        f"written a post here, so about {shuffle / 1e12:,.1f} TB at 1B posts (the text-key "
        "grouping carries each distinct text's raw and normalised form once per partition; "
        "the band keys are 25 x 20 bytes a sketched text; the verified candidate pairs "
        "carry 2 x 128 low bytes). At 150 MB a shuffle partition that is "
        f"`--partitions {max(200, round(shuffle / 150e6, -2)):.0f}`; the shuffle volume "
        "hardly depends on the partition count (table above), the task count and the "
        "per-task overhead grow with it.",
        f"- **Executors**: the Spark stages took {in_spark:.0f} s on {spark['cores']} cores "
        "here (an upper bound: the buckets + components stage's share includes marking the "
        f"spun groups' rewordings on the driver), about {core_hours:,.0f} core-hours at 1B "
        "posts with this machine's per-core speed and overheads: "
        f"{core_hours / 200:,.1f} h on 50 executors of 4 cores "
        "(8 GB heap + 4 GB overhead each: a task holds one Arrow batch of 10,000 texts "
        "and their signatures, 5 MB, plus the imported libraries, about 400 MB a Python "
        "worker).",
        f"- **Driver**: here {driver_s:.0f} s for collecting the accounts, marking the spun "
        "groups' rewordings, putting the buckets' clusters together and scoring "
        f"them, {_driver_memory(best)}, holding {_driver_posts(best)}. "
        f"{_driver_growth(spark['runs'], largest)}Of the shared groups' posts it holds the "
        "spun groups' written posts alone, to mark their rewordings, and of their texts the "
        "spun groups' written ones (each with its copy set): the texts are numbered and "
        "grouped, the spun groups found, and the group ids, text traces, examples and groups "
        "table made, in Spark. What it still holds grows with the dump: a row per account "
        "(the accounts table it writes) and per shared group (to number the groups), the spun "
        "groups' written posts and texts, and the edges it writes.",
        *_largest_task(runs, scale),
        "",
    ]


def _largest_task(runs: list[dict], scale: float) -> list[str]:
    """What one task holds, from the most co-shares and edges one bucket of whole clusters
    read in the best run, and what the communities' split took."""
    best = min(runs, key=lambda r: r["seconds"])
    largest, total = best["largest_bucket_traces"], best["bucket_traces"]
    edges, all_edges = best["largest_bucket_edges"], best["bucket_edges"]
    propagated = best["propagated_components"]
    rounds = (
        f" The communities of {propagated:,} component(s) of {best['propagated_pairs']:,} "
        f"account pairs, past `propagation_task_max`, were found in "
        f"{best['propagation_rounds']} rounds of label propagation in Spark, their coarse "
        "graph split on the driver; smaller components are split in a task each."
        if propagated
        else ""
    )
    return [
        f"- **The largest task**: the graph's edges, communities and core members are made "
        f"across tasks; each cluster's evidence is one task, clusters bucketed whole. Here "
        f"the fullest of {best['evidence_buckets']} buckets read {largest:,} of the "
        f"{total:,} co-share traces of cluster members ({largest / max(total, 1):.0%}) and "
        f"{edges:,} of the {all_edges:,} edges inside clusters "
        f"({edges / max(all_edges, 1):.0%}); the largest cluster has "
        f"{best['largest_cluster']:,} accounts.{rounds} A bucket grows with the clusters "
        "hashed to it, so at 1B posts the buckets' share of "
        f"{total * scale / 1e6:,.0f}M traces and {all_edges * scale / 1e6:,.0f}M edges "
        "divides by the shuffle partitions; one cluster (an operation's accounts, their "
        "traces and links) is the least a task holds."
    ]


def _driver_growth(runs: list[dict], largest: int) -> str:
    """The Spark driver's peak memory at 1B posts, from how it grew between the smallest
    and the largest world (best runs of each); empty where one size was run."""
    spark = [
        r
        for r in runs
        if r["engine"] != "local" and r.get("driver_peak_rss_mb") and "driver_peak_with" not in r
    ]
    smallest = min((r["posts"] for r in spark), default=largest)
    if smallest == largest or all(r["posts"] != largest for r in spark):
        return ""
    peak = {
        size: min(r["driver_peak_rss_mb"] for r in spark if r["posts"] == size)
        for size in (smallest, largest)
    }
    per_post = (peak[largest] - peak[smallest]) / (largest - smallest)
    at_billion = peak[largest] + per_post * (1e9 - largest)
    return (
        f"Its peak grew {per_post * 1e6:,.0f} MB a million posts from {size_label(smallest)} "
        f"to {size_label(largest)}: about {at_billion / 1e3:,.0f} GB at 1B posts at that rate. "
    )


def _driver_posts(run: dict) -> str:
    """How many of the run's posts the Spark driver held, and their share, and the texts
    it numbered where the run counted them."""
    held = run.get("driver_posts")
    if held is None:
        return "–"
    texts = run.get("driver_texts")
    posts = f"{held:,} posts ({held / run['posts']:.1%})"
    return posts if texts is None else f"{posts}, {texts:,} texts"


def _growth_caveat(runs: list[dict], largest: int) -> str:
    """Where a smaller world was run too: how much faster than posts each Spark stage
    grew from it to the largest (best runs of each), when any did."""
    smallest = min(r["posts"] for r in runs)
    if smallest == largest:
        return ""
    best = {
        size: min((r for r in runs if r["engine"] != "local" and r["posts"] == size),
                  key=lambda r: r["seconds"])
        for size in {smallest, largest}
    }  # fmt: skip
    posts = largest / smallest
    names = {"ingest": "read + validate", "minhash": "normalise + MinHash",
             "lsh": "buckets + components", "graph": "graph"}  # fmt: skip
    faster = [
        f"{label} {grown:.1f}×"
        for name, label in names.items()
        if (grown := best[largest]["stages_s"][name] / best[smallest]["stages_s"][name])
        > 1.25 * posts
    ]
    if not faster:
        return ""
    return (
        f" (an underestimate: from {size_label(smallest)} to {size_label(largest)}, "
        f"{posts:.0f}× the posts, these stages grew faster on this machine: "
        + ", ".join(faster)
        + ")"
    )


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _driver_memory(run: dict) -> str:
    """The driver's peak memory; where the run did not record it, the local engine's peak
    at the same size bounds it (the driver does that scan's work after LSH)."""
    peak = run.get("driver_peak_rss_mb")
    if peak is None:
        return "with about the memory of a local scan of this size (*Speed and memory* above)"
    if "driver_peak_with" in run:  # the process held more than the driver's work
        return f"peak {peak:,.0f} MB, an upper bound: it counts {run['driver_peak_with']}"
    return f"peak {peak:,.0f} MB"


def _spark_real_section(real: dict) -> list[str]:
    """The Spark engine on a real dump (``python -m benchmarks.spark_real``)."""
    lines = [
        "### On a real dump",
        "",
        f"Written by `{real['command']}` on {real['date']} at commit `{real['commit']}`, "
        f"{real['cores']} cores, Spark in `{real['master']}` (each engine warmed up by a "
        "scan of the demo dump first; the local engine through `detector scan`, every output "
        "written).",
        "",
    ]
    for r in real["runs"]:
        share = r["largest_bucket_traces"] / max(r["bucket_traces"], 1)
        edges = r["largest_bucket_edges"] / max(r["bucket_edges"], 1)
        lines += [
            f"- `{r['dump']}`: {r['rows_read']:,} rows read, {r['rows_scanned']:,} scanned, "
            f"{r['rows_rejected']:,} rejected; {r['accounts']:,} accounts, "
            f"{r['clusters']:,} clusters, {r['flagged_accounts']:,} flagged. Same answer as "
            f"the local engine: {'yes' if r['same_answer'] else '**no**'}. Spark "
            f"{r['spark_seconds']:.1f} s at {r['partitions']} shuffle partitions against "
            f"{r['local_seconds']:.1f} s locally ({r['spark_seconds'] / r['local_seconds']:.1f}"
            f"×); the driver held {r['driver_posts']:,} posts and {r['driver_texts']:,} texts. "
            f"The fullest of {r['evidence_buckets']} buckets of whole clusters read "
            f"{r['largest_bucket_traces']:,} of the {r['bucket_traces']:,} traces of cluster "
            f"members ({share:.1%}) and {r['largest_bucket_edges']:,} of the "
            f"{r['bucket_edges']:,} edges inside clusters ({edges:.1%}).",
        ]
    return [*lines, ""]


# Figures other benchmark commands write beside results.json, each with its section.
COMPANIONS = {
    "stage": _stage_section,
    "first_run": _first_run_section,
    "traces": _traces_section,
    "evasive": _evasive_section,
    "calibration": _calibration_section,
    "linearity": _linearity_section,
    "tiles": _tiles_section,
    "tiles_host_reclaim": _tiles_host_reclaim_section,
    "freed_memory": _freed_memory_section,
    "spark": _spark_section,
    "spark_real": _spark_real_section,
}


def companions(folder: Path) -> dict[str, dict]:
    """The figures written beside results.json by other benchmark commands, if any."""
    return {
        name: json.loads((folder / f"{name}.json").read_text())
        for name in COMPANIONS
        if (folder / f"{name}.json").is_file()
    }


def write_results(results: dict, path: Path, **sections: dict) -> None:
    """Write RESULTS.md, with a section for each of ``sections`` (see COMPANIONS)."""
    m = results["meta"]
    packages = ", ".join(f"{p} {v}" for p, v in m["packages"].items())
    dirty = " (with uncommitted changes under detector/)" if m["dirty"] else ""
    lines = [
        "# Benchmark results",
        "",
        "Every figure below was written by",
        "",
        f"    {m['command']}",
        "",
        f"on {m['date']} at commit `{m['commit']}`{dirty}. Machine: {m['cpu']}, "
        f"{m['cores']} cores, {m['ram_gib']} GiB RAM; Python {m['python']}, {packages}.",
        f"Figures are medians of {m['repeats']} run(s) (a run slower than "
        f"{m['max_repeat_s']:g} s is not repeated); seconds are the system's own work inside "
        "its process (reading the Parquet dump included, and for ours writing every output "
        "a scan writes: tables, report.html, Gephi exports; interpreter start-up and imports "
        "excluded); peak RSS is that of the system's largest process. "
        "See README.md for what each system is.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {t} | {v} | {ok} |" for t, v, ok in targets(results)),
        "",
        "## Speed and memory",
        "",
        *_speed_table(results),
        "",
        "![scaling](scaling.png)",
        "",
        "## Our stages (seconds)",
        "",
        "Wall time of the scan's own thread in each stage. The input is read and validated "
        "in a background thread while the batch before is normalised and MinHashed, so "
        "*ingest* is the time spent waiting for the next batch and numbering its accounts, "
        "and the reading itself falls within *normalise* and *minhash*.",
        "",
        *_stage_table(results),
        "",
        "Growth from one size to the next (ratios). The posts are not all that grows: the "
        "worlds keep their time span and their everyday hashtags and phrases, so more posts "
        "are more co-shares of each, and the account graph (*graph edges*, which the graph "
        "and cluster stages work through) grows faster than the posts. A stage linear in "
        "its work grows like the figure it reads.",
        "",
        *_growth_table(results),
        "",
        "## Quality (account level)",
        "",
        *_quality_table(results),
        "",
        "## Signature kernel",
        "",
        *_kernel_table(results),
        "",
        "## Worlds",
        "",
        *_world_table(results),
        "",
        *(line for name, render in COMPANIONS.items() if name in sections
          for line in render(sections[name])),
    ]  # fmt: skip
    path.write_text("\n".join(lines))


def write_plot(results: dict, path: Path) -> None:
    """Seconds and peak memory against posts, log-log, one line per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (time_ax, mem_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system, name in NAMES.items():
        done = [e for e in _plain(results) if e["system"] == system and _ok(e)]
        if done:
            x = [e["posts"] for e in done]
            time_ax.plot(x, [_seconds(e) for e in done], "o-", color=COLORS[system], label=name)
            mem_ax.plot(x, [e["median"]["peak_rss_mb"] for e in done], "o-", color=COLORS[system])
        dnf = [e for e in _plain(results) if e["system"] == system and e["status"] == "dnf"]
        if dnf:
            time_ax.plot(
                [e["posts"] for e in dnf],
                [e["limit_s"] for e in dnf],
                "x",
                color=COLORS[system],
                markersize=10,
                label=f"{name}: did not finish (limit)",
            )
    for ax, label in ((time_ax, "seconds (median)"), (mem_ax, "peak RSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("posts")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    time_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Rewrite RESULTS.md and scaling.png from a run's results.json, without rerunning."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    default = Path(__file__).resolve().parent / "results.json"
    parser.add_argument("results", type=Path, nargs="?", default=default)
    path = parser.parse_args(argv).results
    results = json.loads(path.read_text())
    write_plot(results, path.with_name("scaling.png"))
    write_results(results, path.with_name("RESULTS.md"), **companions(path.parent))
    print(f"wrote {path.with_name('RESULTS.md')}")


if __name__ == "__main__":
    main()
