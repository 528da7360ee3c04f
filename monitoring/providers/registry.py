"""Providers by name: ``metrics_providers``, ``traffic_routers`` (as Flagger's factories)
and ``job_launchers``.

The ModelRollout spec names a provider (``prometheus``, ``scrape``, ``static``;
``gatewayapi``, ``router``, ``noop``; a ``retrain`` section's ``launcher``: ``kubernetes``,
``local``); ``create`` builds it with the spec's settings.
``workload_providers`` (``kubernetes``; ``noop``, alias ``local``) are chosen by the
operator's mode, not by the spec.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from monitoring.providers.interfaces import (
    JobLauncher,
    MetricsProvider,
    TrafficRouter,
    WorkloadProvider,
)

ProviderT = TypeVar("ProviderT")


class Registry(dict[str, Callable[..., ProviderT]]):
    """Provider factories by name; ``create`` names the known ones when asked for another.

    The built-in implementations live in ``package`` and register themselves when it is
    imported; ``create`` imports it on first use, so importing this module pulls in no
    client library.
    """

    def __init__(self, kind: str, package: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.package = package

    def register(self, name: str) -> Callable[[Callable[..., ProviderT]], Callable[..., ProviderT]]:
        def decorator(factory: Callable[..., ProviderT]) -> Callable[..., ProviderT]:
            self[name] = factory
            return factory

        return decorator

    def create(self, name: str, **settings: Any) -> ProviderT:
        """Build provider ``name``; camelCase keys as written in a CR (``tokenEnv``) are
        passed as the snake_case keyword arguments the factories take (``token_env``)."""
        if name not in self and self.package:
            importlib.import_module(self.package)
        try:
            factory = self[name]
        except KeyError:
            known = ", ".join(sorted(self)) or "none"
            raise ValueError(f"unknown {self.kind} provider {name!r} (known: {known})") from None
        return factory(**snake_case_keys(settings))


def snake_case_keys(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``{"adminUrl": u}`` -> ``{"admin_url": u}`` (pure; top-level keys only)."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in settings.items()}


metrics_providers: Registry[MetricsProvider] = Registry(
    "metrics", package="monitoring.providers.metrics"
)
traffic_routers: Registry[TrafficRouter] = Registry(
    "traffic", package="monitoring.providers.traffic"
)
job_launchers: Registry[JobLauncher] = Registry("jobs", package="monitoring.providers.jobs")
workload_providers: Registry[WorkloadProvider] = Registry(
    "workload", package="monitoring.providers.workload"
)
