"""A private ``BENTOML_HOME`` per ``bentoml serve``, sharing the model and bento stores.

BentoML 1.4 keeps its Prometheus multiprocess directory at
``$BENTOML_HOME/prometheus_multiproc_dir`` (no setting moves it alone) and every
``bentoml serve`` empties it at start-up (``bentoml.serving.ensure_prometheus_dir``). Two
servers on one home therefore wipe each other's metric files: the first one started
loses its counters. ``BENTOML_HOME`` is the supported per-process setting, so each server
gets a home of its own whose ``models`` and ``bentos`` are symbolic links to the shared
store's: the same models, its own metrics directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

BENTOML_HOME_ENV = "BENTOML_HOME"
SHARED_STORES = ("models", "bentos")
"""The store directories a private home links to the shared home's."""
HOMES_DIR = ".bentoml-homes"
"""Beside a server's log: the folder holding its private home (``<log stem>/``)."""


def is_bentoml_serve(args: Sequence[str]) -> bool:
    """Whether ``args`` runs ``bentoml serve`` (pure)."""
    return len(args) > 1 and Path(args[0]).name == "bentoml" and args[1] == "serve"


def shared_home(env: Mapping[str, str]) -> Path:
    """The home ``env`` names, or BentoML's default ``~/bentoml`` (pure)."""
    given = env.get(BENTOML_HOME_ENV, "").strip()
    return Path(os.path.expandvars(given)).expanduser() if given else Path.home() / "bentoml"


def private_home(shared: Path, home: Path) -> Path:
    """Create ``home`` with ``models`` and ``bentos`` linked to ``shared``'s (idempotent).

    Raises ``FileExistsError`` when ``home`` holds a real directory of that name (a home
    used on its own before): its models would be hidden, so it is not replaced.
    """
    home.mkdir(parents=True, exist_ok=True)
    for name in SHARED_STORES:
        target = (shared / name).resolve()
        target.mkdir(parents=True, exist_ok=True)
        link = home / name
        if link.is_symlink():
            if link.resolve() == target:
                continue
            link.unlink()
        elif link.exists():
            raise FileExistsError(f"{link}: a store of its own; expected a link to {target}")
        link.symlink_to(target, target_is_directory=True)
    return home


def serve_env(env: Mapping[str, str], *, log_path: Path) -> dict[str, str]:
    """The ``BENTOML_HOME`` for a ``bentoml serve`` logging to ``log_path``: a private home
    in ``<log dir>/.bentoml-homes/<log stem>`` over the store ``env`` names."""
    home = log_path.parent / HOMES_DIR / log_path.stem
    return {BENTOML_HOME_ENV: str(private_home(shared_home(env), home))}
