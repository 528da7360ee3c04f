"""``canaria rules generate``: canaria's Prometheus recording and alerting rules as a file
(the same as ``python -m monitoring.rules``)."""

from __future__ import annotations

from typing import Any

from canaria.cli.generators import add_generator
from monitoring.rules import command


def register(subparsers: Any) -> None:
    add_generator(
        subparsers,
        "rules",
        command=command,
        help="write canaria's Prometheus rule file (canaria-rules.yaml)",
        description="canaria's Prometheus recording and alerting rules, generated from code.",
        generate="write canaria-rules.yaml (default: the committed monitoring/rules/)",
    )
