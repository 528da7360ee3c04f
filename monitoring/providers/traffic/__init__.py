"""Traffic routers, registered by name in ``traffic_routers``: ``gatewayapi`` (HTTPRoute),
``router`` (the canaria router's admin API or ConfigMap) and ``noop``."""

from monitoring.providers.traffic.gatewayapi import GatewayApiRouter
from monitoring.providers.traffic.noop import NoopRouter
from monitoring.providers.traffic.router import CanariaRouter

__all__ = ["CanariaRouter", "GatewayApiRouter", "NoopRouter"]
