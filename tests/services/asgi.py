"""A BentoML service served in-process over ASGI, more than once per test process.

``Service.to_asgi()`` registers BentoML's HTTP metrics (``bentoml_service_request_*``) in
prometheus_client's global registry, and a second registration of the same names raises
``DuplicateTimeseries``. ``asgi_client`` unregisters whatever the app registered once the
client closes, so each test module may start its own in-process service, in any order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from starlette.testclient import TestClient


def _collectors() -> set[Any]:
    # prometheus_client has no public list of collectors; this mapping is where it keeps them.
    return set(REGISTRY._collector_to_names)


@contextlib.contextmanager
def asgi_client(service: Any) -> Iterator[TestClient]:
    """A started ``TestClient`` of ``service.to_asgi()``; on exit the collectors the app
    registered are unregistered again."""
    before = _collectors()
    try:
        with TestClient(service.to_asgi()) as client:
            yield client
    finally:
        for collector in _collectors() - before:
            REGISTRY.unregister(collector)
