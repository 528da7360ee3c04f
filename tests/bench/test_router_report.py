"""The router benchmark's summary over repeats, its goals per client, and its table."""

from __future__ import annotations

from typing import Any

from bench.router_report import goals, markdown_table, summarise


def _point(ok_per_s: float, errors: int = 0) -> dict[str, Any]:
    return {"ok_per_s": ok_per_s, "errors": errors}


def _load(custom: tuple[float, float], aiohttp: tuple[float, float], errors: int = 0) -> dict:
    """A load entry: (p50 added, throughput ratio) per client."""
    clients = {
        name: {
            "router": _point(100 * ratio, errors if name == "aiohttp" else 0),
            "p50_added_ms": p50,
            "p99_added_ms": 2 * p50,
            "throughput_ratio": ratio,
        }
        for name, (p50, ratio) in {"custom": custom, "aiohttp": aiohttp}.items()
    }
    return {"direct": _point(100), "clients": clients}


def _repeat(custom_p50: float, aiohttp_errors: int = 0) -> dict[str, Any]:
    loads = {
        "paced": _load((custom_p50, 0.9), (0.5, 0.95)),
        "saturation": _load((2.0, 0.8), (2.0, 0.6), errors=aiohttp_errors),
    }
    shadow_round = {"shadow_off": _point(10), "shadow_on": _point(10)}
    shadow = {"rounds": [shadow_round], "p99_ratio": 1.0, "p99_on_ms": 5.0, "p99_off_ms": 5.0}
    return {"upstreams": {"trivial": loads}, "shadow": {"custom": shadow, "aiohttp": shadow}}


def test_means_spreads_and_goals_per_client() -> None:
    summary = summarise([_repeat(0.4), _repeat(1.0, aiohttp_errors=3)])
    paced = summary["upstreams"]["trivial"]["paced"]
    assert paced["custom"]["p50_added_ms"] == 0.7
    assert paced["custom"]["p50_added_ms_spread"] == 0.6
    assert paced["aiohttp"]["p50_added_ms_spread"] == 0.0
    assert summary["upstreams"]["trivial"]["saturation"]["aiohttp"]["clean"] is False
    report = {"summary": summary, "settings": {"shadow_delay_s": 0.2}}
    met = goals(report)
    assert met["custom: trivial: paced p50 added <= 1.0 ms"] is True
    assert met["custom: trivial: saturation router/direct >= 0.7"] is True
    # 0.6 < 0.7, and its points had errors: not met either way.
    assert met["aiohttp: trivial: saturation router/direct >= 0.7"] is False
    assert met["aiohttp: shadow: p99 on/off <= 1.1"] is True
    table = markdown_table(report)
    assert "| trivial | paced | custom | 100 | 90 | 0.90 ± 0.00 | +0.70 ± 0.60 |" in table
    assert "| trivial | saturation | aiohttp (errors) |" in table
