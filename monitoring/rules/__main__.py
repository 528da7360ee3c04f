"""``python -m monitoring.rules [--out DIR] [--for 5s] [--stuck-after 10m] [--check]``.

Writes ``canaria-rules.yaml`` (default: next to this module, the committed copy). ``--check``
writes nothing and exits 1 when the committed file differs from the generator.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitoring.rules.build import RuleSettings
from monitoring.rules.files import COMMITTED_DIR, FILE_NAME, render, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.rules", description=__doc__)
    parser.add_argument("--out", type=Path, default=COMMITTED_DIR, help="output directory")
    parser.add_argument("--for", dest="for_override", help="replace every alert's for:")
    parser.add_argument("--stuck-after", default=RuleSettings.stuck_after)
    parser.add_argument("--operator-job", default=RuleSettings.operator_job)
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    settings = RuleSettings(
        for_override=args.for_override,
        stuck_after=args.stuck_after,
        operator_job=args.operator_job,
    )
    if args.check:
        committed = COMMITTED_DIR / FILE_NAME
        if not committed.exists() or committed.read_text() != render(settings):
            print(f"{committed} is stale: run python -m monitoring.rules", file=sys.stderr)
            return 1
        return 0
    print(write(args.out, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
