"""``lint FILE...``: ModelRollout YAML checked offline, every problem at once, with its path.

Two passes, the same the cluster would make: the CRD's openAPIV3Schema
(``k8s/crds/modelrollout.yaml``, unknown fields refused as ``kubectl apply
--validate=strict`` does) reports every structural problem, each with its field path
(``spec.analysis.stepWieght: unknown field (did you mean stepWeight?)``); then the
operator's own parser (``monitoring.api.spec.parse_spec``) adds what a schema cannot check
(duplicate check names, increasing steps). A consequence of an unknown field (a required
sibling then missing, the parser's complaint about it) is not reported a second time.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from monitoring.api.constants import GROUP, KIND, VERSION
from monitoring.api.spec import SpecError, parse_spec

CRD_PATH = Path(__file__).resolve().parents[2] / "k8s" / "crds" / "modelrollout.yaml"
_JUNCTORS = ("anyOf", "oneOf", "allOf")
MAX_PARSES = 20


@dataclass(frozen=True)
class Problem:
    """One problem: the field path (``spec.analysis.checks[1].max``) and what is wrong."""

    path: str
    message: str
    unknown: bool = False
    suggestion: str | None = None  # for an unknown field: the known field it resembles

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def to_json_schema(node: Any) -> Any:
    """The CRD's structural schema as plain JSON Schema: ``x-kubernetes-*`` keys dropped,
    unknown fields refused, ``metadata`` left to the API server (pure)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if node.get("type") == "object" and "properties" in node and not preserve:
        out.setdefault("additionalProperties", False)
    if "properties" in node and "metadata" in node["properties"]:
        out["properties"]["metadata"] = {"type": "object"}
    return out


@functools.cache
def validator(crd_path: Path = CRD_PATH) -> jsonschema.protocols.Validator:
    """A validator for the CRD in ``crd_path``; ``OSError``/``ValueError`` when unusable."""
    crd = yaml.safe_load(crd_path.read_text())
    (version,) = crd["spec"]["versions"]
    return jsonschema.Draft4Validator(to_json_schema(version["schema"]["openAPIV3Schema"]))


def field_path(parts: Iterable[Any]) -> str:
    """``["spec", "analysis", "checks", 1, "max"]`` -> ``spec.analysis.checks[1].max``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


def _schema_problems(error: jsonschema.ValidationError) -> list[Problem]:
    path = field_path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = list((error.schema.get("properties") or {}).keys())
        problems = []
        for key in error.instance:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"
            problems.append(
                Problem(
                    field_path([*error.absolute_path, key]),
                    "unknown field" + hint,
                    unknown=True,
                    suggestion=close[0] if close else None,
                )
            )
        return problems
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        return [
            Problem(field_path([*error.absolute_path, k]), "required field missing")
            for k in missing
        ]
    if error.validator in _JUNCTORS:
        leaves = sorted({_leaf_message(sub) for sub in error.context or ()})
        return [Problem(path, "must satisfy one of: " + " | ".join(leaves))]
    return [Problem(path, error.message)]


def _leaf_message(error: jsonschema.ValidationError) -> str:
    where = field_path(error.relative_path)
    if error.validator == "required":
        return f"{where}: {error.message}" if error.relative_path else error.message
    return f"{where}: {error.message}"


def _related(path: str, unknown: str) -> bool:
    """Whether an unknown field at ``unknown`` may explain a problem at ``path``."""
    parent = unknown.rsplit(".", 1)[0]
    return unknown.startswith(path + ".") or path == parent or path.startswith(parent + ".")


def lint_object(obj: Any, *, crd_path: Path = CRD_PATH) -> list[Problem]:
    """Every problem of one ModelRollout object (pure but for reading the CRD once)."""
    if not isinstance(obj, Mapping):
        return [Problem("(top)", f"must be a ModelRollout object, got {type(obj).__name__}")]
    problems: list[Problem] = []
    if obj.get("kind") != KIND:
        problems.append(Problem("kind", f"must be {KIND}, got {obj.get('kind')!r}"))
    if obj.get("apiVersion") != f"{GROUP}/{VERSION}":
        problems.append(Problem("apiVersion", f"must be {GROUP}/{VERSION}"))
    name = (
        (obj.get("metadata") or {}).get("name")
        if isinstance(obj.get("metadata"), Mapping)
        else None
    )
    if not isinstance(name, str) or not name:
        problems.append(Problem("metadata.name", "required field missing"))
    schema: list[Problem] = []
    for error in sorted(
        validator(crd_path).iter_errors(dict(obj)), key=lambda e: list(map(str, e.absolute_path))
    ):
        schema.extend(_schema_problems(error))
    unknown = [p.path for p in schema if p.unknown]
    problems += [
        p
        for p in schema
        if p.unknown
        or not (p.message.startswith("must satisfy") and any(_related(p.path, u) for u in unknown))
    ]
    problems += _parser_problems(obj, schema)
    return _unique(problems)


def _parser_problems(obj: Mapping[str, Any], schema: list[Problem]) -> list[Problem]:
    """The parser's problems: it stops at the first, so each field it (or the schema)
    refused is removed from a copy and the copy parsed again, until it parses."""
    spec = (
        copy.deepcopy(dict(obj.get("spec") or {})) if isinstance(obj.get("spec"), Mapping) else {}
    )
    document = {"spec": spec}
    for problem in schema:
        if problem.unknown:
            _rename(document, problem.path, problem.suggestion)
        elif problem.path.startswith("spec.") and not problem.message.startswith("must satisfy"):
            _remove(document, problem.path)
    found: list[Problem] = []
    seen = {p.path for p in schema}
    for _ in range(MAX_PARSES):
        try:
            parse_spec(document["spec"])
            break
        except SpecError as error:
            if error.path in seen:
                break
            seen.add(error.path)
            found.append(Problem(error.path, error.reason))
            if not _remove(document, error.path):
                break
    return found


def _rename(document: dict[str, Any], path: str, suggestion: str | None) -> None:
    """Give an unknown field the name it resembles (or drop it), so the parser judges
    what was meant: a typo ``stepWieght: 10`` is parsed as ``stepWeight: 10``."""
    holder = _holder(document, path)
    key = path.rsplit(".", 1)[-1]
    if isinstance(holder, dict) and key in holder:
        value = holder.pop(key)
        if suggestion is not None and suggestion not in holder:
            holder[suggestion] = value


def _holder(document: dict[str, Any], path: str) -> Any:
    holder: Any = document
    for part in _parts(path)[:-1]:
        try:
            holder = holder[part]
        except (KeyError, IndexError, TypeError):
            return None
    return holder


def _parts(path: str) -> list[str | int]:
    return [
        int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)
    ]


def _remove(document: dict[str, Any], path: str) -> bool:
    """Delete the field at ``path`` (``spec.analysis.checks[1].max``) from ``document``;
    whether there was one."""
    parts = _parts(path)
    holder = _holder(document, path)
    last = parts[-1] if parts else None
    if isinstance(holder, dict) and last in holder:
        del holder[last]
        return True
    if isinstance(holder, list) and isinstance(last, int) and last < len(holder):
        holder[last] = {}
        return True
    return False


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            out.append(problem)
    return out


def lint_file(path: Path, *, crd_path: Path = CRD_PATH) -> list[Problem]:
    """Every problem of every document in ``path``; documents after the first are named
    ``#2``, ``#3`` in the paths."""
    try:
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    except OSError as error:
        return [Problem("(file)", f"cannot read: {error.strerror or error}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        return [Problem(where, f"not valid YAML: {getattr(error, 'problem', error)}")]
    if not documents:
        return [Problem("(file)", "no ModelRollout in the file")]
    problems = []
    for index, document in enumerate(documents):
        prefix = f"#{index + 1} " if len(documents) > 1 else ""
        for problem in lint_object(document, crd_path=crd_path):
            problems.append(Problem(prefix + problem.path, problem.message, problem.unknown))
    return problems
