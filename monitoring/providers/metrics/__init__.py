"""Metrics providers, registered by name in ``metrics_providers``: ``prometheus`` (HTTP
API), ``scrape`` (direct ``/metrics`` scrape, no Prometheus) and ``static`` (fixed values).
"""

from monitoring.providers.metrics.prometheus import PrometheusProvider
from monitoring.providers.metrics.scrape import ScrapeProvider
from monitoring.providers.metrics.static import StaticProvider

__all__ = ["PrometheusProvider", "ScrapeProvider", "StaticProvider"]
