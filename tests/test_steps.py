"""The steps benchmark times every step it names and leaves the scan as it found it."""

import detector.pipeline
import detector.posts
from benchmarks.steps import DEMO, STEPS, main, step_seconds


def test_every_step_is_timed_and_put_back(capsys):
    before = [getattr(module, name) for module, name in STEPS]
    seconds = step_seconds(DEMO)
    assert set(seconds) == {name for _, name in STEPS} | {"scan"}
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in seconds.values())
    assert sum(seconds[name][0] for _, name in STEPS) <= seconds["scan"][0]
    assert [getattr(module, name) for module, name in STEPS] == before
    assert detector.pipeline.group_sketches is before[0]
    assert detector.posts.groups_table is before[-2]
    main([str(DEMO)])
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 + len(STEPS) + 1 and rows[-1].startswith(f"| {DEMO} | scan |")
