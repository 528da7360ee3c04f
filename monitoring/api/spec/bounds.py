"""The bounds of every numeric, duration and free-text field of a ModelRollout spec (pure).

One source: the parser refuses a value outside them with a ``SpecError`` naming the field,
and ``tests/monitoring/test_spec_bounds.py`` checks that the CRD's schema
(``k8s/crds/modelrollout.yaml``) states the same numbers, so a spec ``kubectl apply``
accepts can never crash the engine (an ``interval: 99999999999h`` once overflowed
``datetime`` on every reconcile). A schema cannot bound a duration's value, only its form:
the CRD limits its digits (``DURATION_SCHEMA_PATTERN``), the parser its seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from monitoring.api.spec.model import SpecError

INTERVAL_SECONDS = (0.1, 24 * 3600.0)
"""``spec.analysis.interval``: 100ms to 24h."""
WINDOW_SECONDS = (0.1, 30 * 24 * 3600.0)
"""``spec.analysis.checks[].window``: 100ms to 30 days (what a Prometheus keeps)."""
THRESHOLD_LIMIT = 1e12
"""``min``/``max`` of a check lie within ±this: any real metric fits, no float overflows."""
MAX_CHECKS = 32
MAX_MATCH_RULES = 16
MAX_LABELS = 16
MAX_TARGET_GROUPS = 16
MAX_TARGETS_PER_GROUP = 16
FAST_ABORT_FAILURES = (1, 10_000)
FAST_ABORT_WINDOW_REQUESTS = (1, 10_000)
FAST_ABORT_WINDOW_SECONDS = (0.1, 3600.0)
"""``spec.analysis.fastAbort``: within what the router's breaker accepts."""
MAX_NOTIFICATIONS = 8
"""``spec.notifications`` entries (``monitoring.notify.endpoints.MAX_ENTRIES``)."""
MAX_NAME_LENGTH = 253
"""Kubernetes object names (HTTPRoute, ConfigMap, Secret, Service) and env var names."""
NAME_LIMITS = {"service": 63}
"""Names bounded tighter than ``MAX_NAME_LENGTH``: a Service name is a DNS label (RFC 1035)."""
MAX_TEXT_LENGTH = 512
"""Model tags, images, header values, label values."""
MAX_URL_LENGTH = 2048
MAX_QUERY_LENGTH = 4096

DURATION_SCHEMA_PATTERN = r"^([0-9]{1,7}(\.[0-9]{1,6})?(ms|s|m|h)){1,4}$"
"""The CRD's duration pattern: the parser's form, with at most 7 digits per part."""
DURATION_MAX_LENGTH = 64
URL_PATTERN = r"^https?://[^/\s?#]+(/\S*)?$"
URL_RE = re.compile(URL_PATTERN)
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
LABEL_NAME_RE = re.compile(LABEL_NAME_PATTERN)
TOKEN_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"  # nosec B105 # a regex for RFC 9110 header tokens, not a secret
"""An HTTP header or cookie name (RFC 9110 token)."""
TOKEN_RE = re.compile(TOKEN_PATTERN)


def in_range(value: float, bounds: tuple[float, float], path: str, unit: str = "") -> float:
    """``value`` when ``lo <= value <= hi``, else a ``SpecError`` naming ``path``."""
    lo, hi = bounds
    if not lo <= value <= hi:
        raise SpecError(path, f"must be between {lo:g}{unit} and {hi:g}{unit}, got {value:g}{unit}")
    return value


def text(value: Any, path: str, *, limit: int = MAX_TEXT_LENGTH, empty: bool = False) -> str:
    """A string of at most ``limit`` characters (non-blank unless ``empty``)."""
    if not isinstance(value, str):
        raise SpecError(path, f"must be a string, got {value!r}")
    if len(value) > limit:
        raise SpecError(path, f"must be at most {limit} characters, got {len(value)}")
    if not empty and not value.strip():
        raise SpecError(path, "must not be empty")
    return value


def url(value: Any, path: str) -> str:
    """An ``http(s)://host[/path]`` URL."""
    text(value, path, limit=MAX_URL_LENGTH)
    if not URL_RE.match(value):
        raise SpecError(path, f"must be an http:// or https:// URL, got {value!r}")
    return str(value)


def threshold(value: float | None, path: str) -> float | None:
    if value is not None and abs(value) > THRESHOLD_LIMIT:
        raise SpecError(path, f"must be within ±{THRESHOLD_LIMIT:g}, got {value:g}")
    return value


def listed(value: Any, path: str, limit: int) -> Sequence[Any]:
    """A list (not a string) of at most ``limit`` items."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise SpecError(path, f"must be a list, got {value!r}")
    if len(value) > limit:
        raise SpecError(path, f"must have at most {limit} items, got {len(value)}")
    return value


def mapping(value: Any, path: str, limit: int) -> Mapping[str, Any]:
    """An object of at most ``limit`` keys."""
    if not isinstance(value, Mapping):
        raise SpecError(path, f"must be an object, got {value!r}")
    if len(value) > limit:
        raise SpecError(path, f"must have at most {limit} entries, got {len(value)}")
    return value


def check_metrics_settings(name: str, settings: Mapping[str, Any], parent: str) -> None:
    """``address`` (prometheus) and ``targets`` (scrape): their form, before any provider
    is built from them. A scrape provider needs at least one target."""
    if "address" in settings and settings["address"] is not None:
        url(settings["address"], f"{parent}.address")
    targets = settings.get("targets")
    found = 0
    if isinstance(targets, Sequence) and not isinstance(targets, str):
        groups: Mapping[str, Any] = {"": targets}  # a plain list of URLs (local mode)
    elif targets is not None:
        groups = mapping(targets, f"{parent}.targets", MAX_TARGET_GROUPS)
    else:
        groups = {}
    for group, urls in groups.items():
        where = f"{parent}.targets.{group}" if group else f"{parent}.targets"
        if group:
            text(group, where, limit=63)
        urls = [urls] if isinstance(urls, str) else urls
        for i, item in enumerate(listed(urls, where, MAX_TARGETS_PER_GROUP)):
            url(item, f"{where}[{i}]")
            found += 1
    if name == "scrape" and not found:
        raise SpecError(f"{parent}.targets", "scrape needs at least one /metrics URL")


def check_labels(labels: Mapping[str, Any], parent: str) -> None:
    mapping(labels, parent, MAX_LABELS)
    for label, value in labels.items():
        if not isinstance(label, str) or not LABEL_NAME_RE.match(label):
            raise SpecError(f"{parent}.{label}", "must be a Prometheus label name")
        text(value, f"{parent}.{label}", empty=True)
