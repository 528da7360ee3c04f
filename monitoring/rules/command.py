"""The rules' command line, shared by ``python -m monitoring.rules`` and ``canaria rules
generate``: write ``canaria-rules.yaml``, or ``--check`` a written copy."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from monitoring.rules.build import RuleSettings

# A Prometheus duration: units from largest to smallest, each at most once ("1h30m", "5s").
_DURATION = re.compile(r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")


def duration(text: str) -> str:
    """``text`` if it is a non-zero Prometheus duration; else argparse's usage error."""
    if not text or not _DURATION.fullmatch(text) or not re.search(r"[1-9]", text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be a Prometheus duration such as 30s, 5m or 1h30m"
        )
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out DIR`` (default: ``monitoring/rules/``, the committed copy), ``--for``,
    ``--stuck-after``, ``--operator-job`` and ``--check``."""
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: monitoring/rules/)"
    )
    parser.add_argument(
        "--for", dest="for_override", type=duration, help="replace every alert's for:"
    )
    parser.add_argument(
        "--stuck-after",
        type=duration,
        default=RuleSettings.stuck_after,
        help="how long a progressing rollout may go without a decision (default: %(default)s)",
    )
    parser.add_argument(
        "--operator-job",
        default=RuleSettings.operator_job,
        help="the operator's scrape job (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the file in --out differs from the generator",
    )


def run(args: argparse.Namespace) -> int:
    """Write the file (print its path; exit 0) or check it (exit 1 when stale or missing)."""
    from monitoring.rules.files import COMMITTED_DIR, FILE_NAME, render, write

    settings = RuleSettings(
        for_override=args.for_override,
        stuck_after=args.stuck_after,
        operator_job=args.operator_job,
    )
    out: Path = args.out or COMMITTED_DIR
    if args.check:
        written = out / FILE_NAME
        if not written.exists() or written.read_text() != render(settings):
            print(f"{written} is stale: run python -m monitoring.rules", file=sys.stderr)
            return 1
        return 0
    print(write(out, settings))
    return 0
