"""The ``canaria`` command line: training, model listing, packaging, the operator, the
router, and the dashboards and alert rules as files."""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib import metadata

# Each module registers one sub-command; see canaria/cli/__init__.py.
COMMAND_MODULES = (
    "canaria.cli.train",  # canaria train classic|llm
    "canaria.cli.models",  # canaria models
    "canaria.cli.build",  # canaria build
    "canaria.cli.operator",  # canaria operator (kopf or local mode)
    "canaria.cli.router",  # canaria router
    "canaria.cli.dashboards",  # canaria dashboards generate|pictures
    "canaria.cli.rules",  # canaria rules generate
    "canaria.cli.drift",  # canaria drift [monitor|llm]
    "canaria.cli.retrain",  # canaria retrain
    "canaria.cli.completion",  # canaria completion bash|zsh
    "canaria.cli.chart",  # canaria chart sync-crd | helm
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="canaria", description="Serve classic and LLM models with safe rollouts."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # a command not written yet
        module.register(subparsers)
    return parser


def _version() -> str:
    try:
        return metadata.version("canaria")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
