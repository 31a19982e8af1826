"""Progress on stderr, shown only to a person at a terminal: a counting bar for reading,
then one line naming each later step while it runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm


def on_terminal(wanted: bool) -> bool:
    """Whether to show progress: asked for, and stderr is a terminal."""
    return wanted and sys.stderr.isatty()


@contextmanager
def step(label: str, *, show: bool) -> Iterator[None]:
    """Name ``label`` on one line while the block runs (no timer: tqdm redraws only on an
    update, so a timer would stand still through a long step)."""
    with tqdm(desc=label, bar_format="{desc} ...", disable=not show, leave=False):
        yield
