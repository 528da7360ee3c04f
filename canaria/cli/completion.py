"""``canaria completion bash|zsh``: a shell completion script for every command, flag
and rollout name (``shtab``). Install with e.g.
``canaria completion bash > ~/.local/share/bash-completion/completions/canaria``, or
``eval "$(canaria completion zsh)"`` in ``.zshrc``; ``kubectl-canaria completion bash``
does the same for the kubectl plugin."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print a bash or zsh completion script",
        description="Print a completion script for commands, flags and rollout names.",
    )
    parser.add_argument("shell", choices=("bash", "zsh"))
    parser.set_defaults(handler=_completion)


def _completion(args: argparse.Namespace) -> int:
    import shtab

    from canaria.cli import build_parser

    parser = build_parser()
    script = shtab.complete(parser, shell=args.shell)  # nosec B604 # shell= names the completion dialect (bash/zsh), runs nothing
    print(script)
    return 0
