"""The bounds helpers of the spec parser (``monitoring.api.spec.bounds``) on their own: every
message in full, every limit at the largest value accepted and one step past (expected values
written out by hand)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from monitoring.api.spec import SpecError
from monitoring.api.spec import bounds as b

URL_2048 = "http://h/" + "a" * (2048 - len("http://h/"))
GROUP_63 = "g" * 63


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: b.in_range(11, (1, 10), "spec.x"),
            "spec.x: must be between 1 and 10, got 11",
            id="in_range-no-unit",
        ),
        pytest.param(
            lambda: b.in_range(0.05, b.FAST_ABORT_WINDOW_SECONDS, "spec.w", "s"),
            "spec.w: must be between 0.1s and 3600s, got 0.05s",
            id="in_range-unit",
        ),
        pytest.param(
            lambda: b.threshold(-2e12, "spec.min"),
            "spec.min: must be within ±1e+12, got -2e+12",
            id="threshold",
        ),
        pytest.param(
            lambda: b.url(5, "spec.address"), "spec.address: must be a string, got 5", id="url-type"
        ),
        pytest.param(
            lambda: b.url("ftp://x", "spec.address"),
            "spec.address: must be an http:// or https:// URL, got 'ftp://x'",
            id="url-scheme",
        ),
        pytest.param(
            lambda: b.url(URL_2048 + "a", "spec.address"),
            "spec.address: must be at most 2048 characters, got 2049",
            id="url-length",
        ),
        pytest.param(
            lambda: b.listed("abc", "spec.l", 16),
            "spec.l: must be a list, got 'abc'",
            id="listed-str",
        ),
        pytest.param(
            lambda: b.listed({"a": 1}, "spec.l", 16),
            "spec.l: must be a list, got {'a': 1}",
            id="listed-object",
        ),
        pytest.param(
            lambda: b.listed([0] * 17, "spec.l", 16),
            "spec.l: must have at most 16 items, got 17",
            id="listed-length",
        ),
        pytest.param(
            lambda: b.mapping([1], "spec.m", 2),
            "spec.m: must be an object, got [1]",
            id="mapping-type",
        ),
        pytest.param(
            lambda: b.mapping({"a": 1, "b": 2, "c": 3}, "spec.m", 2),
            "spec.m: must have at most 2 entries, got 3",
            id="mapping-length",
        ),
        pytest.param(
            lambda: b.check_labels("x", "p.labels"),  # type: ignore[arg-type]
            "p.labels: must be an object, got 'x'",
            id="labels-type",
        ),
        pytest.param(
            lambda: b.check_labels({f"l{i}": "v" for i in range(17)}, "p.labels"),
            "p.labels: must have at most 16 entries, got 17",
            id="labels-count",
        ),
        pytest.param(
            lambda: b.check_labels({"a-b": "x"}, "p.labels"),
            "p.labels.a-b: must be a Prometheus label name",
            id="label-name",
        ),
        pytest.param(
            lambda: b.check_labels({1: "x"}, "p.labels"),  # type: ignore[dict-item]
            "p.labels.1: must be a Prometheus label name",
            id="label-name-not-a-string",
        ),
        pytest.param(
            lambda: b.check_labels({"a": 5}, "p.labels"),
            "p.labels.a: must be a string, got 5",
            id="label-value-type",
        ),
        pytest.param(
            lambda: b.check_labels({"a": "v" * 513}, "p.labels"),
            "p.labels.a: must be at most 512 characters, got 513",
            id="label-value-length",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("prometheus", {"address": "ftp://x"}, "p"),
            "p.address: must be an http:// or https:// URL, got 'ftp://x'",
            id="address",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": ["http://a", "ftp://b"]}, "p"),
            "p.targets[1]: must be an http:// or https:// URL, got 'ftp://b'",
            id="targets-list-url",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": ["http://a"] * 17}, "p"),
            "p.targets: must have at most 16 items, got 17",
            id="targets-list-length",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": 5}, "p"),
            "p.targets: must be an object, got 5",
            id="targets-type",
        ),
        pytest.param(
            lambda: b.check_metrics_settings(
                "scrape", {"targets": {f"g{i}": "http://a" for i in range(17)}}, "p"
            ),
            "p.targets: must have at most 16 entries, got 17",
            id="targets-groups",
        ),
        pytest.param(
            lambda: b.check_metrics_settings(
                "scrape", {"targets": {GROUP_63 + "g": "http://a"}}, "p"
            ),
            f"p.targets.{GROUP_63}g: must be at most 63 characters, got 64",
            id="targets-group-name",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": {"stable": 5}}, "p"),
            "p.targets.stable: must be a list, got 5",
            id="targets-group-type",
        ),
        pytest.param(
            lambda: b.check_metrics_settings(
                "scrape", {"targets": {"stable": ["http://a"] * 17}}, "p"
            ),
            "p.targets.stable: must have at most 16 items, got 17",
            id="targets-group-length",
        ),
        pytest.param(
            lambda: b.check_metrics_settings(
                "scrape", {"targets": {"stable": ["http://a", "ftp://b"]}}, "p"
            ),
            "p.targets.stable[1]: must be an http:// or https:// URL, got 'ftp://b'",
            id="targets-group-url",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {}, "p"),
            "p.targets: scrape needs at least one /metrics URL",
            id="scrape-without-targets",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": {"stable": []}}, "p"),
            "p.targets: scrape needs at least one /metrics URL",
            id="scrape-with-empty-group",
        ),
    ],
)
def test_every_bounds_message_in_full(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        call()
    assert str(caught.value) == message
    assert f"{caught.value.path}: {caught.value.reason}" == message


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda: b.in_range(0.1, b.FAST_ABORT_WINDOW_SECONDS, "p", "s"), 0.1, id="lo"),
        pytest.param(
            lambda: b.in_range(3600.0, b.FAST_ABORT_WINDOW_SECONDS, "p", "s"), 3600.0, id="hi"
        ),
        pytest.param(lambda: b.threshold(1e12, "p"), 1e12, id="threshold-hi"),
        pytest.param(lambda: b.threshold(-1e12, "p"), -1e12, id="threshold-lo"),
        pytest.param(lambda: b.threshold(None, "p"), None, id="threshold-none"),
        pytest.param(lambda: b.url("http://prom:9090", "p"), "http://prom:9090", id="url"),
        pytest.param(lambda: b.url(URL_2048, "p"), URL_2048, id="url-2048"),
        pytest.param(lambda: b.listed([0] * 16, "p", 16), [0] * 16, id="listed-16"),
        pytest.param(lambda: b.listed((1, 2), "p", 16), (1, 2), id="listed-tuple"),
        pytest.param(lambda: b.mapping({"a": 1, "b": 2}, "p", 2), {"a": 1, "b": 2}, id="mapping-2"),
        pytest.param(
            lambda: b.check_labels({"a": "", "b": "  ", "_x9": "v" * 512}, "p"),
            None,
            id="labels-empty-blank-512",
        ),
        pytest.param(
            lambda: b.check_labels({f"l{i}": "v" for i in range(16)}, "p"), None, id="labels-16"
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": ["http://a"] * 16}, "p"),
            None,
            id="targets-list-16",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("scrape", {"targets": {GROUP_63: "http://a"}}, "p"),
            None,
            id="targets-group-63-one-url",
        ),
        pytest.param(
            lambda: b.check_metrics_settings(
                "scrape", {"targets": {f"g{i}": ["http://a"] * 16 for i in range(16)}}, "p"
            ),
            None,
            id="targets-16-groups-of-16",
        ),
        pytest.param(
            lambda: b.check_metrics_settings("prometheus", {"address": None}, "p"),
            None,
            id="prometheus-no-address-no-targets",
        ),
    ],
)
def test_the_largest_values_accepted(call: Callable[[], object], expected: object) -> None:
    assert call() == expected


@pytest.mark.parametrize(
    ("value", "bounds", "path"),
    [
        (math.nextafter(0.1, 0.0), b.FAST_ABORT_WINDOW_SECONDS, "spec.lo"),
        (math.nextafter(3600.0, math.inf), b.FAST_ABORT_WINDOW_SECONDS, "spec.hi"),
    ],
)
def test_one_step_past_a_range_is_refused(
    value: float, bounds: tuple[float, float], path: str
) -> None:
    with pytest.raises(SpecError) as caught:
        b.in_range(value, bounds, path, "s")
    assert caught.value.path == path
    assert caught.value.reason.startswith("must be between 0.1s and 3600s, got ")


def test_one_step_past_the_threshold_limit_is_refused() -> None:
    for value in (math.nextafter(1e12, math.inf), math.nextafter(-1e12, -math.inf)):
        with pytest.raises(SpecError) as caught:
            b.threshold(value, "spec.max")
        assert caught.value.path == "spec.max"
        assert caught.value.reason.startswith("must be within ±1e+12, got ")
