"""User-facing errors and the documented exit codes of the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: the only case that prints a traceback
EXIT_USAGE = 2  # bad option or argument (click's own convention)
EXIT_INPUT = 3  # an input path is missing, unreadable or matches no file
EXIT_DATA = 4  # an input file is broken or lacks a required column
EXIT_OUTPUT = 5  # the output directory cannot be written
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT, the shell's convention)


class DetectorError(Exception):
    """An error caused by the user's input or options, reported as one line with no traceback."""

    exit_code = EXIT_INTERNAL

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = [f"{self.file}" if self.file else None]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        place = ", ".join(w for w in where if w)
        return f"{place}: {self.message}" if place else self.message


class UsageError(DetectorError):
    exit_code = EXIT_USAGE


class InputError(DetectorError):
    exit_code = EXIT_INPUT


class DataError(DetectorError):
    exit_code = EXIT_DATA


class OutputError(DetectorError):
    exit_code = EXIT_OUTPUT


@contextmanager
def writing_to(path: str | Path, failure: str) -> Iterator[None]:
    """Report an OSError in the block as an OutputError: ``failure`` and the system's
    reason, naming ``path``."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"{failure}: {exc.strerror or exc}", file=str(path)) from None
