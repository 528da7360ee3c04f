"""Sub-commands of the ``canaria`` CLI: each module exposes ``register(subparsers)``.

``register`` adds one sub-parser and sets its ``handler`` default to a function taking the
parsed ``argparse.Namespace`` and returning an exit code. Heavy imports (bentoml, torch)
belong inside the handler, so ``canaria --help`` stays fast.
"""
