"""``python -m monitoring.rules [--out DIR] [--for 5s] [--stuck-after 10m] [--check]``
(also ``canaria rules generate``).

Writes ``canaria-rules.yaml`` (default: next to this module, the committed copy). ``--check``
writes nothing and exits 1 when the file in ``--out`` differs from the generator.
"""

from __future__ import annotations

import argparse
import sys

from monitoring.rules.command import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.rules", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
