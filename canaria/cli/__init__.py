"""The ``canaria`` CLI (``main``) and its sub-commands.

Each module other than ``main`` exposes ``register(subparsers)``.

``register`` adds one sub-parser and sets its ``handler`` default to a function taking the
parsed ``argparse.Namespace`` and returning an exit code. Heavy imports (bentoml, torch)
belong inside the handler, so ``canaria --help`` stays fast.
"""

from canaria.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
