"""Local mode's state file: a rollout's status, its pending manual action and recent Events.

State lives out of the source tree, in a state directory: ``--state-dir``, else
``$CANARIA_STATE_DIR``, else ``$XDG_STATE_HOME/canaria`` (``~/.local/state/canaria``).
Each rollout file has its own state file there, named after the file and a hash of its
absolute path (``churn.yaml`` -> ``churn-1a2b3c4d.state.json``), so a restarted
``canaria operator --local churn.yaml`` resumes from it, ``canaria rollout --local
churn.yaml`` (or ``kubectl-canaria --local``) finds it from any directory, and two
checkouts never share one. Every read-modify-write holds an exclusive ``flock`` on a lock
file beside it and replaces the state atomically, so the CLI and the operator never lose
each other's writes and a crash never leaves half a file; the lock file is removed again
after every use (no ``.lock`` stays behind).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
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


STATE_DIR_ENV = "CANARIA_STATE_DIR"


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$CANARIA_STATE_DIR``, else ``$XDG_STATE_HOME/canaria``, else
    ``~/.local/state/canaria`` (pure apart from reading the environment)."""
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    xdg = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg).expanduser() / "canaria"


def state_path_for(rollout_path: Path, state_dir: Path | None = None) -> Path:
    """The state file of the rollout in ``rollout_path``, in ``state_dir`` (default:
    ``default_state_dir()``), created on first write."""
    absolute = rollout_path.expanduser().resolve()
    digest = hashlib.sha256(str(absolute).encode()).hexdigest()[:8]
    directory = default_state_dir() if state_dir is None else state_dir
    return directory / f"{absolute.stem}-{digest}{STATE_SUFFIX}"


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
        """Hold the lock file's ``flock``; remove the file before letting go. A process
        that waited on a removed file sees its inode gone and locks the new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            lock = self._lock_path.open("a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    current = os.stat(self._lock_path).st_ino
                except FileNotFoundError:
                    current = None
                if current != os.fstat(lock.fileno()).st_ino:
                    continue  # removed (or replaced) while we waited: lock the new one
                try:
                    yield
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self._lock_path)
                return
            finally:
                lock.close()  # also releases the flock

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
