"""Render PromQL templates: fill ``{{ variant }}``, ``{{ window }}`` and ``{{ selector }}``.

Built-in checks use the templates in ``canaria.contracts.metrics``; a custom check's query
may use the same placeholders, plus one per selector label by its name (``{{ namespace }}``
renders the selector's ``namespace`` value, escaped for use inside double quotes). An
unknown placeholder is a query error, not an empty string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from canaria.contracts.checks import CUSTOM_CHECK, PROMQL_TEMPLATES, BuiltinCheck
from monitoring.providers.interfaces import MetricQuery, MetricsQueryError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def promql_duration(seconds: float) -> str:
    """A PromQL duration for ``seconds`` (pure): whole seconds as ``60s``, else ``1500ms``."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise MetricsQueryError(f"window must be a positive number of seconds, got {seconds}")
    milliseconds = max(round(seconds * 1000), 1)
    if milliseconds % 1000 == 0:
        return f"{milliseconds // 1000}s"
    return f"{milliseconds}ms"


def escape_label_value(value: str) -> str:
    """``value`` escaped for a double-quoted PromQL string, without the quotes (pure)."""
    return json.dumps(value)[1:-1]


def label_selector(selector: Mapping[str, str]) -> str:
    """``{"namespace": "ml"}`` -> ``namespace="ml",`` (pure; every matcher ends in a comma,
    which PromQL accepts, so the placeholder can close any matcher list)."""
    parts = []
    for name, value in sorted(selector.items()):
        if not LABEL_NAME.fullmatch(name):
            raise MetricsQueryError(f"selector label name {name!r} is not a valid label name")
        parts.append(f'{name}="{escape_label_value(value)}",')
    return "".join(parts)


def render(template: str, query: MetricQuery) -> str:
    """Fill ``template``'s placeholders for ``query`` (pure)."""
    values = {name: escape_label_value(value) for name, value in query.selector.items()}
    values["variant"] = query.variant.value
    values["window"] = promql_duration(query.window_seconds)
    values["selector"] = label_selector(query.selector)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values))
            raise MetricsQueryError(f"unknown placeholder {{{{ {name} }}}} (known: {known})")
        return values[name]

    return PLACEHOLDER.sub(substitute, template)


def promql_for(query: MetricQuery) -> str:
    """The PromQL that answers ``query``: its check's template, or the user's own query."""
    if query.check == CUSTOM_CHECK:
        if not query.promql or not query.promql.strip():
            raise MetricsQueryError("custom check has no promql query")
        return render(query.promql, query)
    try:
        template = PROMQL_TEMPLATES[BuiltinCheck(query.check)]
    except ValueError:
        known = ", ".join(check.value for check in BuiltinCheck)
        raise MetricsQueryError(
            f"unknown check {query.check!r} (known: {known}, {CUSTOM_CHECK})"
        ) from None
    return render(template, query)
