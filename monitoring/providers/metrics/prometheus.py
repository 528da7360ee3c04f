"""Metrics from a Prometheus server's HTTP API (``/api/v1/query``, instant queries).

Errors, so the analysis can count a check inconclusive: an unreachable server, a timeout, a
5xx or an answer that is not the Prometheus API raise ``MetricsUnavailableError``; a query
Prometheus rejects (4xx, ``bad_data``) or one that returns several series or a range raises
``MetricsQueryError``. An empty result or NaN (say, 0/0 with no traffic) is ``None``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import httpx

from monitoring.providers.interfaces import MetricQuery, MetricsQueryError, MetricsUnavailableError
from monitoring.providers.metrics.promql import promql_for
from monitoring.providers.registry import metrics_providers

QUERY_PATH = "/api/v1/query"


def parse_instant_result(payload: Mapping[str, Any], promql: str) -> float | None:
    """One number from an instant query's JSON answer (pure); ``None`` for no data."""
    data = payload.get("data")
    if payload.get("status") != "success" or not isinstance(data, Mapping):
        raise MetricsUnavailableError(f"unexpected Prometheus answer for {promql!r}: {payload}")
    result_type, result = data.get("resultType"), data.get("result")
    if result_type == "scalar":
        return _sample_value(result, promql)
    if result_type != "vector":
        raise MetricsQueryError(
            f"query {promql!r} returns a {result_type}; it must return one instant value"
        )
    if not result:
        return None
    if len(result) > 1:
        labels = [series.get("metric", {}) for series in result[:3]]
        raise MetricsQueryError(
            f"query {promql!r} returns {len(result)} series (e.g. {labels}); "
            "aggregate it to one, e.g. with sum() or max()"
        )
    return _sample_value(result[0].get("value"), promql)


def _sample_value(sample: Any, promql: str) -> float | None:
    try:
        value = float(sample[1])
    except (TypeError, ValueError, IndexError) as error:
        raise MetricsUnavailableError(f"malformed sample {sample!r} for {promql!r}") from error
    return None if math.isnan(value) else value


@metrics_providers.register("prometheus")
class PrometheusProvider:
    """Answers metric queries with instant PromQL queries against ``address``.

    ``token`` (or the environment variable named by ``token_env``) is sent as a bearer
    token, for a Prometheus behind an authenticating proxy.
    """

    def __init__(
        self,
        *,
        address: str,
        timeout: float = 5.0,
        token: str | None = None,
        token_env: str | None = None,
    ) -> None:
        if token is None and token_env:
            token = os.environ.get(token_env)
            if not token:
                raise ValueError(f"token_env {token_env!r} names an unset environment variable")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.address = address.rstrip("/")
        self._client = httpx.Client(base_url=self.address, timeout=timeout, headers=headers)

    def measure(self, query: MetricQuery) -> float | None:
        return self.query(promql_for(query))

    def query(self, promql: str) -> float | None:
        """Run an instant query that must return at most one number."""
        try:
            response = self._client.get(QUERY_PATH, params={"query": promql})
        except httpx.HTTPError as error:
            raise MetricsUnavailableError(
                f"Prometheus at {self.address} unreachable: {error!r}"
            ) from error
        if response.status_code in (400, 422):
            raise MetricsQueryError(f"Prometheus rejected {promql!r}: {_error_text(response)}")
        if response.status_code != 200:
            raise MetricsUnavailableError(
                f"Prometheus at {self.address} answered {response.status_code} for {promql!r}: "
                f"{_error_text(response)}"
            )
        try:
            payload = response.json()
        except ValueError as error:
            raise MetricsUnavailableError(
                f"Prometheus at {self.address} sent non-JSON for {promql!r}"
            ) from error
        return parse_instant_result(payload, promql)

    def close(self) -> None:
        self._client.close()


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text[:200]
