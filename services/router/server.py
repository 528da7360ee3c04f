"""Running the router: load the config, refuse to start on a bad one, serve with uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path

from canaria.contracts import logs

from .app import RouterApp
from .config import ConfigError, load_config

log = logs.get_logger("router.server")


def serve(*, config_path: Path, host: str, port: int, log_level: str = "INFO") -> int:
    """Serve until stopped; exit code 2 when the config is invalid at start."""
    logs.configure(level=log_level)
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"canaria router: invalid config {config_path}: {error}", file=sys.stderr)
        return 2
    import uvicorn

    app = RouterApp(config, config_path=config_path)
    log.info(
        "router starting",
        extra={"host": host, "port": port, "config": str(config_path), **config.routes()},
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        # No WebSocket handling: an Upgrade request is proxied as plain HTTP (the hop-by-hop
        # Upgrade header is dropped) instead of being refused with a 500.
        ws="none",
        lifespan="on",
        access_log=False,
        # The client address stays the TCP peer's; key the rate limit on a header (e.g.
        # header:x-forwarded-for) to trust what a gateway in front says.
        proxy_headers=False,
        log_config=None,  # uvicorn's loggers propagate to our JSON handler
        log_level=log_level.lower(),
        # The upstream's own Date and Server headers are relayed instead.
        server_header=False,
        date_header=False,
    )
    return 0
