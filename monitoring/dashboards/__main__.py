"""``python -m monitoring.dashboards [--out DIR] [--check]``: write the dashboards' JSON.

Default output: ``monitoring/dashboards/json/`` (committed). ``--check`` writes nothing and
exits 1 naming every dashboard whose committed JSON differs from the generator.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitoring.dashboards.generate import JSON_DIR, stale_files, write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.dashboards", description=__doc__)
    parser.add_argument("--out", type=Path, default=JSON_DIR, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare with --out's files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        if stale:
            print(f"stale in {args.out}: {', '.join(stale)}; run python -m monitoring.dashboards")
            return 1
        return 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
