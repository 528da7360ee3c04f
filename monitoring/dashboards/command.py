"""The dashboards' command line, shared by ``python -m monitoring.dashboards`` and
``canaria dashboards generate``: write every dashboard's JSON, or ``--check`` the committed
copies. The generator (grafana-foundation-sdk) is imported when the command runs, so
``canaria --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out DIR`` (default: ``monitoring/dashboards/json/``, the committed copies) and
    ``--check``."""
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: the committed json/)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every file in --out that differs from the generator",
    )


def run(args: argparse.Namespace) -> int:
    """Write (print each path; exit 0) or check (exit 1 and name the stale files)."""
    from monitoring.dashboards.generate import JSON_DIR, stale_files, write_all

    out: Path = args.out or JSON_DIR
    if args.check:
        stale = stale_files(out)
        if stale:
            print(f"stale in {out}: {', '.join(stale)}; run python -m monitoring.dashboards")
            return 1
        return 0
    for path in write_all(out):
        print(path)
    return 0


def add_picture_arguments(parser: argparse.ArgumentParser) -> None:
    """``--prometheus URL --out DIR [--minutes 15] [--scrape-interval 15]``."""
    parser.add_argument("--prometheus", required=True, help="base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNGs")
    parser.add_argument(
        "--minutes", type=_positive, default=15.0, help="window ending now (default: 15)"
    )
    parser.add_argument(
        "--scrape-interval", type=_positive, default=15.0, help="seconds (default: 15)"
    )


def run_pictures(args: argparse.Namespace) -> int:
    """Draw one PNG per dashboard from ``--prometheus``; exit 2 naming the error when
    Prometheus cannot be read or matplotlib (the ``pictures`` extra) is missing."""
    import time

    import httpx

    from monitoring.dashboards.pictures import render_all

    end = time.time()
    try:
        filled = render_all(
            args.prometheus,
            args.out,
            start=end - args.minutes * 60,
            end=end,
            scrape_interval=args.scrape_interval,
        )
    except (httpx.HTTPError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for uid, count in filled.items():
        print(f"{args.out / (uid + '.png')}: {count} panels with data")
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number")
    return value
