"""Every PromQL expression a dashboard holds, and Grafana's variables substituted (pure).

Tests check these expressions (they parse, they name only exported metrics); the picture
command queries a real Prometheus with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Grafana's built-in time variables, as Prometheus durations.
BUILTIN_DURATIONS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$")
VARIABLE = re.compile(r"\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?")


@dataclass(frozen=True)
class Query:
    """One expression: where it is (``dashboard / panel`` or ``... variable x``), its text."""

    where: str
    expr: str
    legend: str = ""


def dashboard_queries(dashboard: Mapping[str, Any]) -> Iterator[Query]:
    """Panel targets, annotation queries and the series selectors of ``label_values``."""
    title = dashboard["title"]
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            yield Query(
                f"{title} / {panel['title']}", target["expr"], target.get("legendFormat", "")
            )
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            yield Query(f"{title} / annotation {annotation['name']}", annotation["expr"])
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            match = LABEL_VALUES.match(str(variable["query"]))
            if match is None:
                raise ValueError(f"{title} / variable {variable['name']}: not label_values()")
            yield Query(f"{title} / variable {variable['name']}", match["selector"])


def substitute(expr: str, values: Mapping[str, str] | None = None) -> str:
    """``expr`` with Grafana's variables replaced from ``values`` (names without ``$``), the
    built-in durations by default as above, and any left over by ``.*`` (they only appear
    in regex label matchers, where ``.*`` means "All")."""
    given = values or {}
    for name, duration in BUILTIN_DURATIONS.items():
        expr = expr.replace(name, given.get(name[1:], duration))
    return VARIABLE.sub(lambda match: given.get(match[1], ".*"), expr)
