"""Progress on long commands, drawn with rich on stderr (stdout stays for results and
``--json``): a bar with steps, loss and time left for ``train llm``, a spinner with the
elapsed time for stages (``train classic``, ``build``). Off a terminal rich prints the
final state once, so logs get one line per task instead of control codes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def stderr_console() -> Console:
    return Console(stderr=True)


@contextlib.contextmanager
def step_bar(
    description: str, *, total: int, console: Console | None = None
) -> Iterator[Callable[[int, float], None]]:
    """A bar for ``total`` steps; yields ``advance(steps_done, loss)``."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console or stderr_console(),
    )
    with progress:
        task = progress.add_task(description, total=total, loss="-")

        def advance(done: int, loss: float) -> None:
            progress.update(task, completed=done, loss=f"{loss:.3f}")

        yield advance


@contextlib.contextmanager
def stages(console: Console | None = None) -> Iterator[Callable[[str], None]]:
    """A spinner with the elapsed time; yields ``stage(text)``, which finishes the
    previous stage and starts the next."""
    progress = Progress(
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console or stderr_console(),
    )
    current: list[TaskID] = []
    with progress:

        def stage(text: str) -> None:
            if current:
                progress.update(current[-1], total=1, completed=1)
            current.append(progress.add_task(text, total=None))

        yield stage
        if current:
            progress.update(current[-1], total=1, completed=1)


def bentoml_home() -> Path:
    """The BentoML store this process writes to: ``$BENTOML_HOME``, else BentoML's
    documented default ``~/bentoml``."""
    return Path(os.environ.get("BENTOML_HOME") or "~/bentoml").expanduser()
