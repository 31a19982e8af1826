"""The README's Python example runs as written (on the demo dump instead of dump.parquet)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_example_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        code = block.replace('"dump.parquet"', repr(str(ROOT / "fixtures" / "demo.csv.gz")))
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "out" / "summary.json").exists()
