"""``canaria router --config FILE``: the traffic router and shadow sidecar."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "router",
        help="split traffic between stable and canary, compare shadow answers",
        description=(
            "Reverse proxy in front of the model servers: weighted and sticky split, "
            "A/B match rules, shadow comparison, admin API. See services/router/README.md."
        ),
    )
    parser.add_argument("--config", type=Path, required=True, help="router YAML config file")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default loopback; a container passes 0.0.0.0)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    parser.add_argument(
        "--log-format",
        choices=("json", "console"),
        default="json",
        help="json lines (default), or console: human lines, coloured on a terminal",
    )
    parser.add_argument(
        "--upstream-client",
        choices=("custom", "aiohttp"),
        default=None,
        help="the HTTP client for the upstreams (default: upstream_client.implementation "
        "in the config file)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from services.router.config import UpstreamClientKind
    from services.router.server import serve

    chosen = args.upstream_client
    return serve(
        config_path=args.config,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_format=args.log_format,
        upstream_client=None if chosen is None else UpstreamClientKind(chosen),
    )
