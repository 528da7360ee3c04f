"""``python -m monitoring.dashboards [--out DIR] [--check]``: write the dashboards' JSON
(also ``canaria dashboards generate``).

Default output: ``monitoring/dashboards/json/`` (committed). ``--check`` writes nothing and
exits 1 naming every dashboard whose JSON in ``--out`` differs from the generator.
"""

from __future__ import annotations

import argparse
import sys

from monitoring.dashboards.command import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.dashboards", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
