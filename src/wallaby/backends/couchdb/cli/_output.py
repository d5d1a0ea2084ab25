"""What the commands print: JSON (pretty on a terminal, compact on a pipe), JSON Lines, tables, progress.

Rules kept here:

- Standard output carries only the data; messages and the progress bar go
  to standard error, so ``wallaby-couchdb dump db > db.jsonl`` is clean.
- A progress bar is shown only when standard error is a terminal: nothing
  is drawn into a pipe or a log file.
- A reader that goes away (``| head``) ends the command quietly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Lines", "ProgressBar", "print_json", "print_table", "stdout_is_terminal"]


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _write(data: bytes) -> None:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        _reader_gone()


def _reader_gone() -> None:
    # stdout's reader closed it: drop what is buffered and stop, as `cat | head` does
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


def print_json(value: Any) -> None:
    """One JSON value: indented and coloured on a terminal, one compact line on a pipe."""
    if stdout_is_terminal():
        Console(soft_wrap=True).print_json(orjson.dumps(value).decode())
    else:
        _write(orjson.dumps(value) + b"\n")


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


class Lines:
    """JSON Lines to standard output or a file, one compact value per line."""

    def __init__(self, path: str | None = None, append: bool = False, flush_each: bool = False) -> None:
        self._out = open(path, "ab" if append else "wb") if path else sys.stdout.buffer  # noqa: SIM115
        self._owned = path is not None
        self._flush_each = flush_each

    def write(self, value: Any) -> None:
        try:
            self._out.write(orjson.dumps(value) + b"\n")
            if self._flush_each:
                self._out.flush()
        except BrokenPipeError:
            _reader_gone()

    def flush(self) -> None:
        try:
            self._out.flush()
            if self._owned:
                os.fsync(self._out.fileno())
        except BrokenPipeError:
            _reader_gone()

    def close(self) -> None:
        self.flush()
        if self._owned:
            self._out.close()


class ProgressBar:
    """Documents done, per second, and the time left: on a terminal (stderr) only.

    ``counts`` names more numbers shown after the rate (``pending``,
    ``failed``...), set with ``update(..., name=value)``.
    """

    def __init__(self, what: str, total: int | None, done: int = 0, counts: Sequence[str] = ()) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        console = Console(stderr=True)
        if console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} docs/s"),
                *(TextColumn(f"{{task.fields[{name}]}} {name}") for name in counts),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            unknown: dict[str, Any] = {name: "-" for name in counts}
            self._task = self._progress.add_task(what, total=total, completed=done, rate="-", **unknown)

    def advance(self, count: int) -> None:
        """``count`` more documents done."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)
            self._show_rate(self._progress, self._task)

    def update(self, done: int, total: int | None, **counts: int) -> None:
        """Set the count done (and the total, when it is known better now), and the ``counts``."""
        if self._progress is not None and self._task is not None:
            shown: dict[str, Any] = {name: f"{value:,}" for name, value in counts.items()}
            self._progress.update(self._task, completed=done, total=total, **shown)
            self._show_rate(self._progress, self._task)

    @staticmethod
    def _show_rate(progress: Progress, task: TaskID) -> None:
        speed = progress.tasks[0].speed
        progress.update(task, rate=f"{speed:,.0f}" if speed else "-")

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
