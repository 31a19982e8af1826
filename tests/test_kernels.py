"""The first-run warm-up: its kernel list matches what a scan calls, its cache check tells a
cold cache from a warm one, and the CLI says when it compiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from detector import cli, kernels

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.csv.gz"


def _python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing compiled in memory yet); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_a_scan_after_compile_kernels_compiles_no_kernel():
    compiled = _python(
        f"""
import json
from numba.core import event
from detector import kernels
from detector.pipeline import scan

kernels.compile_kernels(0, len(kernels.KERNELS))
listed = [
    all(s in kernels._dispatcher(module, name).signatures for s in kernels.signatures(name))
    for module, name, _ in kernels.KERNELS
]
names = []
class Record(event.Listener):
    def on_start(self, ev):
        names.append(ev.data["dispatcher"].py_func.__module__)
    def on_end(self, ev):
        pass
with event.install_listener("numba:compile", Record()):
    scan({str(DEMO)!r})
print(json.dumps([listed, sorted({{n for n in names if n.startswith("detector.")}})]))
"""
    )
    listed, compiled_modules = json.loads(compiled)
    assert all(listed)  # every listed kernel exists and types with its listed signature
    assert compiled_modules == []  # and the scan needed no other


def test_cold_tells_an_empty_cache_from_a_filled_one(tmp_path):
    # One cheap kernel, compiled into an empty cache folder.
    out = _python(
        """
from detector import kernels
kernels.KERNELS = tuple(k for k in kernels.KERNELS if k[1] == "_roots")
before = kernels.cold(), kernels.probably_cold()
kernels.compile_kernels(0, 1)
print(*before, kernels.cold())
""",
        NUMBA_CACHE_DIR=str(tmp_path),
    )
    # probably_cold leaves a NUMBA_CACHE_DIR to cold: it only looks beside the sources.
    assert out.split() == ["True", "False", "False"]


def test_the_helper_takes_the_last_kernels_about_half_the_work():
    split = kernels.helper_share()
    costs = [cost for _, name, cost in kernels.KERNELS if name not in kernels.DEFERRED]
    assert 0 < split < len(costs)
    assert abs(sum(costs[split:]) - sum(costs[:split])) <= max(costs)


def test_scan_says_it_compiles_and_stops_its_helper_only_when_the_cache_is_cold(
    tmp_path, monkeypatch
):
    dump = tmp_path / "posts.csv"
    dump.write_text("account_id,post_id,created_at,text\na1,p1,2025-03-01T10:00:00Z,hello\n")
    started = []

    class Helper:
        def __init__(self, argv, **_):
            started.append(self)
            self.killed = False

        def poll(self):
            return None

        def kill(self):
            self.killed = True

        def wait(self):
            pass

    monkeypatch.setattr(kernels.subprocess, "Popen", Helper)
    monkeypatch.setattr(cli, "on_terminal", lambda wanted: wanted)  # as if on a screen
    monkeypatch.setattr(kernels, "probably_cold", lambda: False)
    for is_cold in (True, False):
        monkeypatch.setattr(kernels, "cold", lambda is_cold=is_cold: is_cold)
        result = CliRunner().invoke(
            cli.main, ["scan", str(dump), "--out", str(tmp_path / str(is_cold))]
        )
        assert result.exit_code == 0, result.output
        said = "compiling kernels, first run only" in result.output
        assert said is is_cold
    assert len(started) == 1 and started[0].killed
