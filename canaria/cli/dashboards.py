"""``canaria dashboards generate|pictures``: the Grafana dashboards as files.

``generate`` writes the dashboards' JSON (``python -m monitoring.dashboards``); ``pictures``
draws them from a real Prometheus to PNGs (``python -m monitoring.dashboards.pictures``,
needs the ``pictures`` extra). The generators load when a sub-command runs.
"""

from __future__ import annotations

from typing import Any

from canaria.cli.generators import add_generator
from monitoring.dashboards import command


def register(subparsers: Any) -> None:
    actions = add_generator(
        subparsers,
        "dashboards",
        command=command,
        help="write the Grafana dashboards' JSON, or draw them from Prometheus",
        description="canaria's Grafana dashboards, generated with grafana-foundation-sdk.",
        generate=(
            "write every dashboard's JSON (default: the committed monitoring/dashboards/json/)"
        ),
    )
    pictures = actions.add_parser(
        "pictures",
        help="draw every dashboard from a real Prometheus to PNGs (needs matplotlib)",
    )
    command.add_picture_arguments(pictures)
    pictures.set_defaults(handler=command.run_pictures)
