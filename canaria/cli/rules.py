"""``canaria rules generate``: canaria's Prometheus recording and alerting rules as a file
(the same as ``python -m monitoring.rules``)."""

from __future__ import annotations

from typing import Any

from monitoring.rules import command


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="write canaria's Prometheus rule file (canaria-rules.yaml)",
        description="canaria's Prometheus recording and alerting rules, generated from code.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser(
        "generate",
        help="write canaria-rules.yaml (default: the committed monitoring/rules/)",
        description=command.__doc__,
    )
    command.add_arguments(generate)
    generate.set_defaults(handler=command.run)
