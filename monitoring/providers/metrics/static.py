"""A metrics provider that answers fixed numbers: for dry runs and the operator's own tests.

``values`` maps a check name to a number for every variant, or to ``{variant: number}``;
anything not listed is "no data" (``None``). ``set`` changes a value while it runs, so a
test can turn a healthy canary bad mid-rollout.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from canaria.contracts.metrics import Variant
from monitoring.providers.interfaces import MetricQuery
from monitoring.providers.registry import metrics_providers

Values = Mapping[str, float | Mapping[str, float | None] | None]


@metrics_providers.register("static")
class StaticProvider:
    def __init__(self, *, values: Values | None = None) -> None:
        self._values: dict[tuple[str, str | None], float | None] = {}
        self._lock = threading.Lock()
        self.queries: list[MetricQuery] = []
        for check, value in (values or {}).items():
            if isinstance(value, Mapping):
                for variant, number in value.items():
                    self.set(check, number, variant=Variant(variant))
            else:
                self.set(check, value)

    def set(self, check: str, value: float | None, *, variant: Variant | None = None) -> None:
        """Answer ``value`` for ``check`` (for ``variant`` only, when given)."""
        with self._lock:
            self._values[(check, variant.value if variant else None)] = value

    def measure(self, query: MetricQuery) -> float | None:
        with self._lock:
            self.queries.append(query)
            for key in ((query.check, query.variant.value), (query.check, None)):
                if key in self._values:
                    return self._values[key]
        return None
