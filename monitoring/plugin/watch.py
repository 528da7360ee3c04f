"""``status NAME [--watch] [--timeout D]``: show a rollout and exit by its phase, like
``kubectl argo rollouts status``.

Without ``--watch`` it prints the rollout once. With it, it follows the rollout until a
final phase: 0 when it was promoted (Succeeded) or has nothing to roll out (Idle), 1 when
it Failed, was RolledBack or Aborted; after ``--timeout`` with the rollout still going,
3 (``ExitCode.TIMEOUT``). A paused rollout keeps it waiting (a person has to act). So a
pipeline can run ``helm upgrade ... && kubectl canaria status churn --watch --timeout 10m``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live

from monitoring.api.status import Phase
from monitoring.plugin.exitcodes import ExitCode
from monitoring.plugin.live import change_line, changed_fields, rollout_view
from monitoring.plugin.render import (
    FINAL_BAD,
    FINAL_OK,
    format_details,
    format_output,
    rollout_status,
)
from monitoring.plugin.sources import Source


def phase_exit(phase: Phase | None) -> ExitCode | None:
    """The exit code a final phase stands for; ``None`` while the rollout goes on (pure)."""
    if phase in FINAL_OK:
        return ExitCode.OK
    if phase in FINAL_BAD:
        return ExitCode.DEGRADED
    return None


def phase_of(obj: Mapping[str, Any]) -> Phase | None:
    """The rollout's phase; ``None`` before the operator wrote a status."""
    status = rollout_status(obj)
    return None if status is None else status.phase


@dataclass(frozen=True)
class Watch:
    """How to follow a rollout: poll every ``poll`` seconds, give up after ``timeout``
    (``None``: never), print ``output`` (json/yaml/name) documents instead of the view."""

    poll: float = 1.0
    timeout: float | None = None
    output: str | None = None


def show_once(source: Source, name: str, *, output: str | None, out: TextIO) -> ExitCode:
    """Print the rollout once; exit 1 when it failed, was rolled back or aborted."""
    obj = source.get(name)
    if output:
        print(format_output([obj], output, single=True), file=out)
    else:
        print(format_details(obj, events=source.events(name)), file=out)
    code = phase_exit(phase_of(obj))
    return ExitCode.OK if code is None else code


def follow(
    source: Source,
    name: str,
    watch: Watch,
    *,
    console: Console | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ExitCode:
    """Follow the rollout until a final phase or the timeout; the exit code says which."""
    console = console or Console(file=sys.stdout)
    deadline = None if watch.timeout is None else clock() + watch.timeout
    last: Any = None

    def step(draw: Callable[[Mapping[str, Any]], None]) -> ExitCode:
        while True:
            obj = source.get(name)
            draw(obj)
            phase = phase_of(obj)
            code = phase_exit(phase)
            if code is not None:
                return code
            if deadline is not None and clock() >= deadline:
                print(
                    f"error: timed out after {watch.timeout:g}s waiting for {name} "
                    f"(phase {phase or '-'})",
                    file=sys.stderr,
                )
                return ExitCode.TIMEOUT
            sleep(watch.poll)

    def print_changes(obj: Mapping[str, Any]) -> None:
        nonlocal last
        fields = changed_fields(obj)
        if fields != last:
            last = fields
            if watch.output:
                text = format_output([obj], watch.output, single=True)
                console.out(text + ("\n---" if watch.output == "yaml" else ""), highlight=False)
            else:
                console.out(change_line(obj), highlight=False)

    if watch.output or not console.is_terminal:
        return step(print_changes)
    footer = "watching; Ctrl-C stops watching (the rollout goes on)"
    with Live(console=console, auto_refresh=False, transient=False) as live:
        return step(lambda obj: live.update(rollout_view(obj, footer=footer), refresh=True))
