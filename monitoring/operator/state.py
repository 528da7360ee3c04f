"""Local mode's state file: a rollout's status, its pending manual action and recent Events.

It sits next to the rollout's YAML (``churn.yaml`` -> ``churn.state.json``), so a restarted
``canaria operator --local churn.yaml`` resumes from it, and ``kubectl-canaria --local``
(or ``canaria rollout --local``) can ask for an action while the operator runs. Every
read-modify-write holds an exclusive ``flock`` and replaces the file atomically, so the
CLI and the operator never lose each other's writes, and a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from monitoring.api.constants import KIND

STATE_SUFFIX = ".state.json"
EVENTS_KEPT = 50


class RolloutFileError(ValueError):
    """A rollout YAML or state file that cannot be used; the message names the file."""


def state_path_for(rollout_path: Path) -> Path:
    return rollout_path.with_name(rollout_path.stem + STATE_SUFFIX)


def read_rollout_file(path: Path) -> dict[str, Any]:
    """The one ModelRollout in ``path`` (pure apart from reading the file)."""
    try:
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    except (OSError, yaml.YAMLError) as error:
        raise RolloutFileError(f"{path}: cannot read: {error}") from None
    if len(documents) != 1:
        raise RolloutFileError(f"{path}: needs exactly one ModelRollout, found {len(documents)}")
    doc = documents[0]
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise RolloutFileError(f"{path}: kind must be {KIND}")
    name = (doc.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise RolloutFileError(f"{path}: metadata.name is required")
    return doc


def _empty() -> dict[str, Any]:
    return {"status": {}, "action": None, "events": []}


class StateFile:
    """A rollout's state file (JSON ``{"status", "action", "events"}``): every read and
    read-modify-write holds an exclusive ``flock``, and writes replace the file atomically.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return _empty()
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as error:
            # Never overwrite a state we cannot read: it may be all that is left.
            raise RolloutFileError(f"{self.path}: unreadable state: {error}") from None
        if not isinstance(data, dict):
            raise RolloutFileError(f"{self.path}: state must be a JSON object")
        return {**_empty(), **data}

    def read(self) -> dict[str, Any]:
        with self._locked():
            return self._load()

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to the state in place, under the lock, and write it atomically."""
        with self._locked():
            data = self._load()
            change(data)
            handle, temp = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
            try:
                with os.fdopen(handle, "w") as out:
                    json.dump(data, out, indent=2, sort_keys=True)
                    out.write("\n")
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            return copy.deepcopy(data)

    def set_action(self, action: str) -> str | None:
        """Ask for a one-shot action; returns the one it replaced, if any was pending."""
        previous: list[str | None] = [None]

        def change(data: dict[str, Any]) -> None:
            previous[0] = data.get("action")
            data["action"] = action

        self.update(change)
        return previous[0]

    def add_event(self, event: Mapping[str, Any]) -> None:
        def change(data: dict[str, Any]) -> None:
            data["events"] = [*(data.get("events") or []), dict(event)][-EVENTS_KEPT:]

        self.update(change)
