"""Running the router: load the config, refuse to start on a bad one, serve with uvicorn.

One uvicorn server, one or two listening sockets: the public one (``--host``/``--port``)
and, unless ``admin.listen`` is ``public``, the admin listener (``admin.host``/
``admin.port``, loopback by default). The application tells them apart by the local
port of each connection (``RouterApp.admin_port``).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from canaria.contracts import logs

from .app import RouterApp
from .config import ConfigError, RouterConfig, UpstreamClientKind, load_config
from .listener import bound_protocol

log = logs.get_logger("router.server")


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (IPv6 when ``host`` is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def sockets_for(
    config: RouterConfig, host: str, port: int
) -> tuple[list[socket.socket], int | None]:
    """The listening sockets and the admin port (``None``: admin on the public listener)."""
    public = listen(host, port)
    admin = config.admin
    if admin.listen == "public":
        return [public], None
    try:
        admin_socket = listen(admin.host, admin.port)
    except OSError:
        public.close()
        raise
    return [public, admin_socket], admin_socket.getsockname()[1]


def serve(
    *,
    config_path: Path,
    host: str,
    port: int,
    log_level: str = "INFO",
    log_format: str = "json",
    upstream_client: UpstreamClientKind | None = None,
) -> int:
    """Serve until stopped; exit code 2 when the config is invalid or a port is taken.
    ``log_format``: ``json`` lines, or ``console`` (coloured on a terminal);
    ``upstream_client`` overrides the config's ``upstream_client.implementation``."""
    logs.configure(level=log_level, format=log_format)
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"canaria router: invalid config {config_path}: {error}", file=sys.stderr)
        return 2
    import uvicorn

    try:
        sockets, admin_port = sockets_for(config, host, port)
    except OSError as error:
        print(f"canaria router: cannot listen: {error.strerror}", file=sys.stderr)
        return 2
    app = RouterApp(
        config, config_path=config_path, admin_port=admin_port, upstream_client=upstream_client
    )
    admin = "public listener" if admin_port is None else f"{config.admin.host}:{admin_port}"
    log.info(
        "router starting",
        extra={
            "host": host,
            "port": port,
            "admin": admin,
            "config": str(config_path),
            "upstream_client": app.upstream_client.value,
        },
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            loop="uvloop",
            # httptools with the router's bounds: head size while parsing, head/body/idle
            # timeouts, a connection cap, trailers dropped (listener.py).
            http=bound_protocol(app.limits, app.listener_counters),
            timeout_keep_alive=int(max(1, round(config.connections.idle_timeout_seconds))),
            # No WebSocket handling: an Upgrade request is proxied as plain HTTP (the
            # hop-by-hop Upgrade header is dropped) instead of being refused with a 500.
            ws="none",
            lifespan="on",
            access_log=False,  # the router writes its own JSON access log (accesslog.py)
            # The client address stays the TCP peer's; the rate limit can key on the hop a
            # trusted gateway added to X-Forwarded-For (rate_limit.trusted_proxies).
            proxy_headers=False,
            log_config=None,  # uvicorn's loggers propagate to our JSON handler
            log_level=log_level.lower(),
            # The upstream's own Date and Server headers are relayed instead.
            server_header=False,
            date_header=False,
        )
    )
    server.run(sockets=sockets)
    return 0
