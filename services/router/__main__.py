"""``python -m services.router --config FILE``: the same as ``canaria router``."""

from __future__ import annotations

import argparse
import sys

from canaria.commands.router import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.router")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["router", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
