"""The ModelRollout of the local loop, as a plain dict for ``canaria operator --local``.

Traffic goes through the canaria router's admin API and metrics come from scraping the
router's ``/metrics``: what ``make demo``, the local-loop integration tests and the
rollback benchmark all run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.api.constants import GROUP, KIND, VERSION


def local_rollout(
    *,
    name: str,
    stable_tag: str,
    canary_tag: str,
    router_url: str,
    token_env: str,
    analysis: Mapping[str, Any],
    namespace: str = "default",
) -> dict[str, Any]:
    """A canary ModelRollout from ``stable_tag`` to ``canary_tag`` through the router at
    ``router_url`` (admin token in ``$token_env``), judged by ``analysis`` (pure)."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "target": {
                "stable": {"bentoTag": stable_tag},
                "canary": {"bentoTag": canary_tag},
            },
            "trafficProvider": {
                "name": "router",
                "router": {"adminUrl": router_url, "tokenEnv": token_env},
            },
            "metricsProvider": {"name": "scrape", "targets": {"router": [f"{router_url}/metrics"]}},
            "strategy": {"type": "canary"},
            "analysis": dict(analysis),
        },
    }
