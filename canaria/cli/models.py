"""``canaria models``: the saved versions of canaria's models, newest first."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from canaria.contracts.model_metadata import CLASSIC_MODEL_NAME, LLM_MODEL_NAME

MODEL_KINDS = {CLASSIC_MODEL_NAME: "classic", LLM_MODEL_NAME: "llm"}
# The metrics the table shows per kind; --json prints all of them.
KEY_METRICS = {
    "classic": ("accuracy", "roc_auc", "ece"),
    "llm": ("perplexity",),
}


@dataclass(frozen=True)
class ModelRow:
    """One saved model version as the listing shows it."""

    tag: str
    created: datetime
    kind: str
    metrics: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "created": self.created.astimezone(UTC).isoformat(),
            "kind": self.kind,
            "metrics": dict(self.metrics),
            "labels": dict(self.labels),
        }


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the saved model versions and their metrics",
        description=(
            f"List the versions of {CLASSIC_MODEL_NAME} and {LLM_MODEL_NAME} in the BentoML "
            "store (BENTOML_HOME), newest first."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(handler=_list_models)


def _list_models(args: argparse.Namespace) -> int:
    rows = newest_first(_rows_from_store())
    if args.json:
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    elif rows:
        print(format_table(rows))
    else:
        from canaria.cli.progress import bentoml_home

        print(
            f"no {CLASSIC_MODEL_NAME} or {LLM_MODEL_NAME} models in the BentoML store "
            f"{bentoml_home()} (BENTOML_HOME)"
        )
    return 0


def _rows_from_store() -> list[ModelRow]:
    import bentoml
    from bentoml.exceptions import NotFound

    rows = []
    for name, kind in MODEL_KINDS.items():
        try:
            models = bentoml.models.list(name)
        except NotFound:
            continue
        for model in models:
            metadata: dict[str, Any] = dict(model.info.metadata)
            rows.append(
                ModelRow(
                    tag=str(model.tag),
                    created=model.info.creation_time,
                    kind=str(metadata.get("kind", kind)),
                    metrics={
                        key: float(value) for key, value in metadata.get("metrics", {}).items()
                    },
                    labels={str(key): str(value) for key, value in model.info.labels.items()},
                )
            )
    return rows


def newest_first(rows: list[ModelRow]) -> list[ModelRow]:
    """The rows sorted by creation time, newest first (pure)."""
    return sorted(rows, key=lambda row: (row.created, row.tag), reverse=True)


def format_table(rows: list[ModelRow]) -> str:
    """A plain-text table: tag, created (UTC), kind, labels, key metrics (pure)."""
    header = ("TAG", "CREATED (UTC)", "KIND", "LABELS", "METRICS")
    lines = [header]
    for row in rows:
        shown = KEY_METRICS.get(row.kind, tuple(row.metrics))
        metrics = " ".join(
            f"{name}={row.metrics[name]:.3f}" for name in shown if name in row.metrics
        )
        labels = ",".join(f"{key}={value}" for key, value in sorted(row.labels.items()))
        created = row.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines.append((row.tag, created, row.kind, labels or "-", metrics or "-"))
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        + "  "
        + line[-1]
        for line in lines
    )
