"""Choosing the upstream HTTP client: ``build_pool`` makes the ``UpstreamPool`` named by
``upstream_client.implementation`` (or the ``--upstream-client`` override)."""

from __future__ import annotations

from pathlib import Path

from .client import UpstreamPool, tls_context
from .config import UpstreamClientKind, UpstreamClientSettings
from .upstream import CustomPool
from .upstream_aiohttp import AiohttpPool


def build_pool(
    settings: UpstreamClientSettings, implementation: UpstreamClientKind | None = None
) -> UpstreamPool:
    """A pool capped at ``max_connections_per_upstream`` per upstream, verifying https
    upstreams against ``ca_bundle`` (checked when the config was loaded)."""
    kind = implementation or settings.implementation
    bundle = None if settings.ca_bundle is None else Path(settings.ca_bundle)
    tls = tls_context(bundle)
    cap = settings.max_connections_per_upstream
    if kind is UpstreamClientKind.AIOHTTP:
        return AiohttpPool(max_connections=cap, tls=tls)
    return CustomPool(max_connections=cap, tls=tls)
