"""What the demo prints: step headings and indented lines, flushed at once (the e2e test
and ``make`` read the output as it comes)."""

from __future__ import annotations

import sys

INDENT = "   "


def heading(number: int, title: str) -> None:
    print(f"\n[{number}] {title}", flush=True)


def say(text: str = "", *, indent: int = 1) -> None:
    prefix = INDENT * indent
    for line in text.splitlines() or [""]:
        print(f"{prefix}{line}", flush=True)


def partial(text: str) -> None:
    """Part of a line (streamed tokens), no newline."""
    sys.stdout.write(text)
    sys.stdout.flush()


def format_metrics(metrics: dict[str, float], names: tuple[str, ...]) -> str:
    """``accuracy=0.830 roc_auc=0.871`` for the named metrics present (pure)."""
    return " ".join(f"{name}={metrics[name]:.3f}" for name in names if name in metrics)
