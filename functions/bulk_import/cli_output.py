"""What the commands show while they work: progress bars and tables on a terminal, plain lines otherwise.

A terminal gets ``rich`` progress bars and tables. Any other output (a pipe, a file, a CI log) gets one
plain line per step and no bar, colour or escape code, so that it can be read and parsed as it is.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

#: Control characters (escape sequences start with one), never sent to the output as they are.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: ``update(completed, total)``: move a bar (``total`` None: keep the one it has).
Update = Callable[[int, "int | None"], None]


class Reporter:
    """Lines, bars and tables for one command's standard output.

    Parameters
    ----------
    stream
        Where to write (default: standard output).
    terminal
        Whether ``stream`` is a terminal (None: ask it).
    """

    def __init__(self, stream: IO[str] | None = None, terminal: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty and isatty()) if terminal is None else terminal
        self._console: Any = None

    @property
    def console(self) -> Any:
        """The ``rich`` console of a terminal (built when first used: rich is slow to import)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=True, highlight=False)
        return self._console

    def line(self, text: str = "") -> None:
        """One line of text, shown as it is (no markup is interpreted, control characters are written
        as ``\x1b``: a value from a file cannot move the cursor or retitle the terminal)."""
        text = visible(text)
        if self.terminal:
            self.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    @contextmanager
    def bar(self, description: str, total: int | None, *, unit: str = "rows") -> Iterator[Update]:
        """A progress bar while the block runs; plain output gets the description once, as a line.

        Parameters
        ----------
        description
            What is in progress (``uploading relances.csv``).
        total
            The amount when it is complete (None: not known yet).
        unit
            ``bytes`` (shown as sizes and a speed) or anything counted (``rows``).
        """
        description = visible(description)
        if not self.terminal:
            self.line(description)
            yield _still
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        amount: list[Any] = (
            [DownloadColumn(), TransferSpeedColumn()]
            if unit == "bytes"
            else [MofNCompleteColumn(), TextColumn(unit)]
        )
        columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), *amount]
        with Progress(*columns, TimeElapsedColumn(), console=self.console) as progress:
            task = progress.add_task(description, total=total)

            def update(completed: int, total: int | None = None) -> None:
                if total is not None:
                    progress.update(task, total=total)
                progress.update(task, completed=completed)

            yield update

    def table(
        self,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        plain: Callable[[Sequence[str]], str] | None = None,
    ) -> None:
        """A table: a ``rich`` table on a terminal, else a title line and one line per row.

        ``plain`` writes a row as its plain line (default: its cells, two spaces apart).
        """
        if not self.terminal:
            self.line(title)
            for row in rows:
                self.line("  " + (plain(row) if plain else "  ".join(cell for cell in row if cell)))
            return
        title = visible(title)
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_header=any(headers))
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*(_plain(cell) for cell in row))
        self.console.print(table)


def _still(completed: int, total: int | None = None) -> None:
    """The bar of an output that shows none."""


def visible(text: str) -> str:
    """``text`` with its control characters (but newlines and tabs) written as ``\x1b`` and the like."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _plain(text: str) -> Any:
    """A cell shown as it is: values from a file may hold ``[bold]`` or control characters."""
    from rich.text import Text

    return Text(visible(text))
