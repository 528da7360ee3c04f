"""Render every dashboard to JSON text and write the files (the only I/O here)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from monitoring.dashboards import drift, llm, quality, rollout

JSON_DIR = Path(__file__).resolve().parent / "json"
BUILDERS: Mapping[str, Callable[[], dict[str, Any]]] = MappingProxyType(
    {
        rollout.UID: rollout.build,
        quality.UID: quality.build,
        drift.UID: drift.build,
        llm.UID: llm.build,
    }
)


def render_all() -> dict[str, str]:
    """``{file name: JSON text}`` for every dashboard (pure; stable key order)."""
    return {
        f"{uid}.json": json.dumps(build(), indent=2, sort_keys=True) + "\n"
        for uid, build in BUILDERS.items()
    }


def write_all(out_dir: Path) -> list[Path]:
    """Write every dashboard's JSON into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written


def stale_files(out_dir: Path) -> list[str]:
    """Names of dashboards whose file in ``out_dir`` is missing or differs, and extra files."""
    rendered = render_all()
    stale = [name for name, text in rendered.items() if _read(out_dir / name) != text]
    extra = [p.name for p in sorted(out_dir.glob("*.json")) if p.name not in rendered]
    return stale + extra


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
