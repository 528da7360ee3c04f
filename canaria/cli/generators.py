"""The shape shared by ``canaria dashboards`` and ``canaria rules``: a command whose
``generate`` action writes files from code."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def add_generator(
    subparsers: Any, name: str, *, command: ModuleType, help: str, description: str, generate: str
) -> Any:
    """Add ``canaria NAME generate``, run by ``command.run`` with ``command.add_arguments``'s
    options (``generate``: its help line). Returns the sub-parsers of NAME's actions, for
    any further action."""
    parser = subparsers.add_parser(name, help=help, description=description)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    action = actions.add_parser("generate", help=generate, description=command.__doc__)
    command.add_arguments(action)
    action.set_defaults(handler=command.run)
    return actions
