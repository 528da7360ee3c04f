"""Specs generated from a CRD's openAPIV3Schema with ``hypothesis-jsonschema``.

hypothesis-jsonschema 0.23.1 (the latest release) drives Hypothesis' internal ``many``
helper through ``more()``; Hypothesis 6.170 replaced that with a ``with``/``for``
protocol. ``_Many`` offers the old two methods on top of the new protocol, and is put in
place of the one name hypothesis-jsonschema uses, for this process only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import hypothesis_jsonschema._from_schema as _from_schema
import jsonschema
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as _utils
from hypothesis_jsonschema import from_schema

__all__ = ["from_schema", "structural_strategy"]


class _Many:
    """``many(...)`` with ``more()`` and ``reject()``, as hypothesis-jsonschema calls it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._many = _utils.many(*args, **kwargs)
        self._elements: Iterator[None] | None = None

    def more(self) -> bool:
        if self._elements is None:
            self._many.__enter__()
            self._elements = iter(self._many)
        try:
            next(self._elements)
        except StopIteration:
            self._many.__exit__(None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


if not hasattr(_utils.many, "more"):
    _names = {name: getattr(_utils, name) for name in dir(_utils) if not name.startswith("__")}
    _from_schema.cu = SimpleNamespace(**{**_names, "many": _Many})  # type: ignore[assignment]


LARGEST_COLLECTION = 4
"""Lists and maps are drawn with at most this many items (the bounds on counts are
tested on their own); it keeps an example in milliseconds rather than seconds."""


def narrow(schema: Mapping[str, Any], branch: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with a junctor's branch folded in (pure): its ``required`` added, its
    ``enum``s taken, its ``properties`` narrowed the same way, level by level."""
    out = dict(schema)
    for key, value in branch.items():
        if key == "required":
            out["required"] = sorted({*out.get("required", ()), *value})
        elif key == "properties":
            properties = dict(out.get("properties") or {})
            for name, sub in value.items():
                properties[name] = narrow(properties.get(name, {}), sub)
            out["properties"] = properties
        elif key not in ("allOf", "anyOf", "oneOf", "not"):
            out[key] = value
    return out


def _branches(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of one branch per ``anyOf``/``oneOf`` (also inside ``allOf``)
    folded into the schema, junctors removed; the final filter keeps the valid ones."""
    groups = [schema[k] for k in ("anyOf", "oneOf") if k in schema]
    groups += [item[k] for item in schema.get("allOf", ()) for k in ("anyOf", "oneOf") if k in item]
    base = {k: v for k, v in schema.items() if k not in ("allOf", "anyOf", "oneOf", "not")}
    combos = [base]
    for group in groups:
        combos = [narrow(combo, branch) for combo in combos for branch in group]
    return combos


def structural_strategy(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a Kubernetes structural schema, built level by level.

    ``from_schema`` on a whole CRD merges every ``allOf``/``anyOf`` afresh for each draw
    (seconds per example). Here an object is drawn from one combination of its junctors'
    branches (``_branches``): its properties built the same way (required ones always,
    optional ones sometimes), each leaf (string, number, enum) from ``from_schema``; and
    each object is then filtered by its whole schema with ``jsonschema`` (``oneOf``'s
    exclusivity, ``not``), so what comes out validates against ``schema``.
    """
    validator = jsonschema.Draft4Validator(schema)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object" and "properties" in schema:
        options = []
        for combo in _branches(schema):
            required = set(combo.get("required") or ())
            properties = combo["properties"]
            options.append(
                st.fixed_dictionaries(
                    {k: structural_strategy(v) for k, v in properties.items() if k in required},
                    optional={
                        k: structural_strategy(v)
                        for k, v in properties.items()
                        if k not in required
                    },
                )
            )
        strategy: st.SearchStrategy[Any] = st.one_of(options)
    elif kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        strategy = st.dictionaries(
            from_schema({"type": "string", "minLength": 1, "maxLength": 63}),
            structural_strategy(schema["additionalProperties"]),
            min_size=schema.get("minProperties", 0),
            max_size=min(schema.get("maxProperties", LARGEST_COLLECTION), LARGEST_COLLECTION),
        )
    elif kind == "object":
        strategy = st.just({})
    elif kind == "array":
        strategy = st.lists(
            structural_strategy(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", LARGEST_COLLECTION), LARGEST_COLLECTION),
        )
    else:
        leaf = {k: v for k, v in schema.items() if k not in ("allOf", "anyOf", "oneOf", "not")}
        strategy = from_schema(leaf)
    return strategy.filter(validator.is_valid)
