"""The router benchmark's summary, goals and README table (pure functions over its JSON).

``summarise`` takes the repeats of ``bench_router`` (each: ``upstreams`` → load → direct and
per-client points; ``shadow`` → client) and gives, per upstream, load and client, the mean
over the repeats of the added p50/p99 (ms, router minus direct), the router/direct 2xx
throughput ratio, and their spread (max minus min over the repeats; 0 with one repeat).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GOAL_P50_ADDED_MS = 1.0
GOAL_THROUGHPUT_RATIO = 0.7
GOAL_SHADOW_P99_RATIO = 1.10
FIGURES = ("p50_added_ms", "p99_added_ms", "throughput_ratio")


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 3)


def _spread(values: Sequence[float]) -> float:
    return round(max(values) - min(values), 3)


def _point(runs: Sequence[dict[str, Any]], client: str) -> dict[str, Any]:
    """One (upstream, load, client) over the repeats; ``runs`` are that load's entries."""
    point: dict[str, Any] = {}
    for figure in FIGURES:
        values = [run["clients"][client][figure] for run in runs]
        point[figure] = _mean(values)
        point[f"{figure}_spread"] = _spread(values)
    point["direct_ok_per_s"] = _mean([run["direct"]["ok_per_s"] for run in runs])
    point["router_ok_per_s"] = _mean([run["clients"][client]["router"]["ok_per_s"] for run in runs])
    point["clean"] = all(
        run["direct"]["errors"] == 0 and run["clients"][client]["router"]["errors"] == 0
        for run in runs
    )
    return point


def summarise(repeats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means and spreads over the repeats (see the module docstring)."""
    first = repeats[0]
    upstreams: dict[str, Any] = {}
    for upstream, loads in first["upstreams"].items():
        upstreams[upstream] = {}
        for load, entry in loads.items():
            runs = [repeat["upstreams"][upstream][load] for repeat in repeats]
            upstreams[upstream][load] = {
                client: _point(runs, client) for client in entry["clients"]
            }
    shadow: dict[str, Any] = {}
    for client in first["shadow"]:
        runs = [repeat["shadow"][client] for repeat in repeats]
        ratios = [run["p99_ratio"] for run in runs]
        points = [point for run in runs for r in run["rounds"] for point in r.values()]
        shadow[client] = {
            "p99_ratio": _mean(ratios),
            "p99_ratio_spread": _spread(ratios),
            "p99_on_ms": _mean([run["p99_on_ms"] for run in runs]),
            "p99_off_ms": _mean([run["p99_off_ms"] for run in runs]),
            "clean": all(point["errors"] == 0 for point in points),
        }
    return {"upstreams": upstreams, "shadow": shadow}


def goals(report: dict[str, Any]) -> dict[str, bool]:
    """Each goal of the issue per client, met or not; a goal whose points had errors (any
    non-2xx answer or socket error, in any repeat) is not met."""
    summary = report["summary"]
    met: dict[str, bool] = {}
    for upstream, loads in summary["upstreams"].items():
        for client, paced in loads["paced"].items():
            saturation = loads["saturation"][client]
            met[f"{client}: {upstream}: paced p50 added <= {GOAL_P50_ADDED_MS} ms"] = (
                paced["p50_added_ms"] <= GOAL_P50_ADDED_MS and paced["clean"]
            )
            met[f"{client}: {upstream}: saturation router/direct >= {GOAL_THROUGHPUT_RATIO}"] = (
                saturation["throughput_ratio"] >= GOAL_THROUGHPUT_RATIO and saturation["clean"]
            )
    for client, shadow in summary["shadow"].items():
        met[f"{client}: shadow: p99 on/off <= {GOAL_SHADOW_P99_RATIO}"] = (
            shadow["p99_ratio"] <= GOAL_SHADOW_P99_RATIO and shadow["clean"]
        )
    return met


def markdown_table(report: dict[str, Any]) -> str:
    """The README table: means over the repeats, ± their spread (max - min)."""
    lines = [
        "| upstream | load | client | direct 2xx/s | router 2xx/s | ratio ± spread "
        "| added p50 ms ± spread | added p99 ms ± spread |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    summary = report["summary"]
    for upstream, loads in summary["upstreams"].items():
        for load, clients in loads.items():
            for client, p in clients.items():
                flag = "" if p["clean"] else " (errors)"
                lines.append(
                    f"| {upstream} | {load} | {client}{flag} | {p['direct_ok_per_s']:.0f} "
                    f"| {p['router_ok_per_s']:.0f} "
                    f"| {p['throughput_ratio']:.2f} ± {p['throughput_ratio_spread']:.2f} "
                    f"| {p['p50_added_ms']:+.2f} ± {p['p50_added_ms_spread']:.2f} "
                    f"| {p['p99_added_ms']:+.2f} ± {p['p99_added_ms_spread']:.2f} |"
                )
    lines.append("")
    delay_ms = report["settings"]["shadow_delay_s"] * 1000
    for client, shadow in summary["shadow"].items():
        lines.append(
            f"{client}: primary p99 with a {delay_ms:.0f} ms shadow on every request "
            f"{shadow['p99_on_ms']:.2f} ms vs {shadow['p99_off_ms']:.2f} ms off "
            f"({shadow['p99_ratio']:.2f}x ± {shadow['p99_ratio_spread']:.2f})."
        )
    return "\n".join(lines)
