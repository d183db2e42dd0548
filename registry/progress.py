"""Progress of long command-line jobs (seed-demo, import, export, backup), shown on stderr.

The services report through a plain callback, `Advance(done, total)`, so they know nothing of
terminals; the command line turns the reports into a bar. On a terminal the bar redraws in
place and disappears when the job ends; piped or in a log, nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# done so far, total (None while the total is not known yet)
Advance = Callable[[int, int | None], None]


def ignore(done: int, total: int | None) -> None:
    """The callback of a job nobody watches."""


@contextmanager
def progress_bar(description: str, console: Console | None = None) -> Iterator[Advance]:
    """A bar for one job; the callback it yields moves it to `done` of `total`."""
    console = console or Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
