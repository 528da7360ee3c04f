"""Local mode: the same reconcile code with no cluster, for the local loop and ``make demo``.

Rollouts are ModelRollout YAML files; each one's status, pending action and recent Events
live in its state file (``monitoring.operator.state``). Traffic goes through the provider
the spec names (the canaria router's admin API, locally) and metrics through the scrape
provider, exactly as the spec says; nothing here knows a provider by name.

The loop sleeps until the earliest rollout is due, waking a little early (within the
engine's ``ANALYSIS_SLACK``) so that analyses are never late, and at least every
``poll_seconds`` to pick up manual actions and edited files.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from canaria.contracts.env import env_flag
from canaria.contracts.logs import get_logger
from monitoring.analysis import ANALYSIS_SLACK, seconds_until_due
from monitoring.api.constants import ACTION_ANNOTATION
from monitoring.api.status import RolloutStatus, format_time
from monitoring.operator.events import EventReason, RolloutRef, type_for
from monitoring.operator.measure import ProviderCache
from monitoring.operator.metrics import OperatorMetrics
from monitoring.operator.notification_defaults import FileDefaults, NamespaceDefaults
from monitoring.operator.notifications import RolloutNotifier
from monitoring.operator.patches import apply_merge_patch
from monitoring.operator.reconcile import Clock, Reconciler, ReconcileResult, ref_of, utc_now
from monitoring.operator.retraining import HandshakeWorkload
from monitoring.operator.state import (
    RolloutFileError,
    StateFile,
    default_state_dir,
    read_rollout_file,
    state_path_for,
)
from monitoring.operator.trust import RouterPolicy, TrustedReplicas

_log = get_logger("operator.local")

EARLY_WAKE = ANALYSIS_SLACK * 0.9
"""Wake this fraction of the interval before an analysis is due (the engine accepts up to
``ANALYSIS_SLACK`` early), so scheduling delays never make the cadence slower."""
DEFAULT_POLL_SECONDS = 0.25
CANARY_HANDSHAKE_ENV = "CANARIA_CANARY_HANDSHAKE"
"""``true``: a retrained version becomes the canary only once the canary workload serves
it (``retraining.HandshakeWorkload``: files beside the rollout; ``make demo`` uses it)."""


class FileRolloutStore:
    """Rollouts from YAML files; their status and action from the state files beside them.

    An edited file that no longer parses is refused and its last good version kept; a
    file that is gone is a deletion (``fetch`` answers ``None``).
    """

    def __init__(self, paths: Sequence[Path], *, state_dir: Path | None = None) -> None:
        self._state_dir = state_dir
        self._paths: dict[str, Path] = {}
        self._last_good: dict[str, dict[str, Any]] = {}
        self._refused: dict[str, str] = {}
        for path in paths:
            doc = read_rollout_file(path)
            ref = ref_of(doc)
            if ref.key in self._paths:
                raise RolloutFileError(
                    f"{path}: rollout {ref.key} is also in {self._paths[ref.key]}"
                )
            self._paths[ref.key] = path
            self._last_good[ref.key] = doc

    @property
    def refs(self) -> list[RolloutRef]:
        return [ref_of(doc) for doc in self._last_good.values()]

    def path_of(self, ref: RolloutRef) -> Path | None:
        """The rollout's YAML file (``None``: not one of this store's)."""
        return self._paths.get(ref.key)

    def state(self, ref: RolloutRef) -> StateFile:
        return StateFile(state_path_for(self._paths[ref.key], self._state_dir))

    def fetch(self, ref: RolloutRef) -> Mapping[str, Any] | None:
        path = self._paths.get(ref.key)
        if path is None:
            return None
        doc = self._read(ref, path)
        if doc is None:
            return None
        state = self.state(ref).read()
        obj = copy.deepcopy(doc)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("namespace", ref.namespace)
        if state.get("action"):
            meta["annotations"] = {
                **(meta.get("annotations") or {}),
                ACTION_ANNOTATION: state["action"],
            }
        obj["status"] = state.get("status") or {}
        return obj

    def patch_status(self, ref: RolloutRef, patch: Mapping[str, Any]) -> None:
        def change(data: dict[str, Any]) -> None:
            data["status"] = apply_merge_patch(data.get("status") or {}, patch)

        self.state(ref).update(change)

    def clear_action(self, ref: RolloutRef, action: str) -> None:
        def change(data: dict[str, Any]) -> None:
            if data.get("action") == action:
                data["action"] = None

        self.state(ref).update(change)

    def set_canary(self, ref: RolloutRef, bento_tag: str) -> None:
        """Make ``bento_tag`` the rollout's canary (a retrained version): rewrite the
        rollout file's ``spec.target.canary``, as ``kubectl patch`` would the CR."""
        path = self._paths[ref.key]
        doc = read_rollout_file(path)
        doc.setdefault("spec", {}).setdefault("target", {})["canary"] = {"bentoTag": bento_tag}
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(yaml.safe_dump(doc, sort_keys=False))
        temporary.replace(path)

    def drop(self, ref: RolloutRef) -> None:
        """Stop reconciling a deleted rollout (its state file stays, with its Events)."""
        self._last_good.pop(ref.key, None)

    def _read(self, ref: RolloutRef, path: Path) -> dict[str, Any] | None:
        if not path.exists():
            return None  # a deletion, not a parse error: the operator reverts and lets go
        try:
            doc = read_rollout_file(path)
            if ref_of(doc).key != ref.key:
                raise RolloutFileError(f"{path}: renamed to {ref_of(doc).key}; restart to rename")
        except RolloutFileError as error:
            if self._refused.get(ref.key) != str(error):
                self._refused[ref.key] = str(error)
                _log.error(f"{error}; keeping the last good version", extra={"rollout": ref.key})
            return self._last_good[ref.key]
        self._refused.pop(ref.key, None)
        self._last_good[ref.key] = doc
        return doc


class FileEventRecorder:
    """Events go to the rollout's state file (``kubectl-canaria status``); the reconciler
    logs each decision itself, once."""

    def __init__(self, store: FileRolloutStore) -> None:
        self._store = store

    def record(
        self, *, rollout: RolloutRef, reason: EventReason, message: str, now: datetime
    ) -> None:
        self._store.state(rollout).add_event(
            {
                "time": format_time(now),
                "reason": reason.value,
                "type": type_for(reason).value,
                "message": message,
            }
        )


def local_reconciler(
    paths: Sequence[Path],
    *,
    metrics: OperatorMetrics | None = None,
    clock: Clock = utc_now,
    state_dir: Path | None = None,
) -> tuple[Reconciler, FileRolloutStore]:
    store = FileRolloutStore(paths, state_dir=state_dir)
    # Retraining Jobs work in the state directory, never beside the rollout file (the
    # source tree in the documented examples).
    retrain_home = (default_state_dir() if state_dir is None else state_dir) / "retrain"
    workdir = {"workdir": retrain_home} if paths else {}
    metrics = metrics or OperatorMetrics()
    events = FileEventRecorder(store)
    notifier = RolloutNotifier(
        registry=metrics.registry,
        local=True,
        defaults=NamespaceDefaults(FileDefaults(store.path_of)),
        events=events,
    )
    reconciler = Reconciler(
        store=store,
        events=events,
        providers=ProviderCache(),
        metrics=metrics,
        clock=clock,
        replicas=TrustedReplicas(RouterPolicy.from_env(local=True)),
        notifier=notifier,
    )
    reconciler.retrainer.launcher_settings.setdefault("local", workdir)
    if paths and env_flag(os.environ, CANARY_HANDSHAKE_ENV):
        reconciler.retrainer.workload = HandshakeWorkload(paths[0].parent)
    return reconciler, store


def wake_in(result: ReconcileResult, *, now: datetime, poll_seconds: float) -> float:
    """Seconds to sleep before this rollout needs the loop again (pure)."""
    if result.spec is None or result.decision is None:
        return poll_seconds
    spec, status = result.spec, result.decision.status
    left = seconds_until_due(spec=spec, status=status, now=now)
    if left is None:
        return poll_seconds
    return max(0.0, min(poll_seconds, left - EARLY_WAKE * spec.analysis.interval_seconds))


def run_local(
    paths: Sequence[Path],
    *,
    stop: threading.Event,
    metrics: OperatorMetrics | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    clock: Clock = utc_now,
    state_dir: Path | None = None,
) -> None:
    """Reconcile every rollout until ``stop`` is set (state in ``state_dir``, default
    ``monitoring.operator.state.default_state_dir()``)."""
    reconciler, store = local_reconciler(paths, metrics=metrics, clock=clock, state_dir=state_dir)
    _log.info("local operator started", extra={"rollouts": [ref.key for ref in store.refs]})
    try:
        while not stop.is_set():
            sleep = poll_seconds
            for ref in store.refs:
                try:
                    result = reconciler.reconcile(ref)
                except Exception as error:  # one broken rollout must not stop the others
                    _log.exception(
                        "reconcile failed", extra={"rollout": ref.key, "error": repr(error)}
                    )
                    continue
                if result.gone:
                    store.drop(ref)
                sleep = min(sleep, wake_in(result, now=clock(), poll_seconds=poll_seconds))
            stop.wait(max(sleep, 0.005))
    finally:
        reconciler.providers.close()
        reconciler.retrainer.close()  # retraining hook: no local Job outlives the loop
        reconciler.notifier.close()


def request_action(path: Path, action: str, state_dir: Path | None = None) -> str | None:
    """Ask the local operator for a one-shot action on the rollout in ``path``; returns
    the action it replaced, if one was still pending."""
    read_rollout_file(path)  # refuse a path that is not a rollout before writing anything
    return StateFile(state_path_for(path, state_dir)).set_action(action)


def read_local(path: Path, state_dir: Path | None = None) -> dict[str, Any]:
    """The rollout in ``path`` with its status and pending action, as the API would show it."""
    doc = read_rollout_file(path)
    state = StateFile(state_path_for(path, state_dir)).read()
    RolloutStatus.from_dict(state.get("status"))  # refuse a corrupt status early, clearly
    doc.setdefault("metadata", {}).setdefault("namespace", "default")
    if state.get("action"):
        annotations = doc["metadata"].setdefault("annotations", {})
        annotations[ACTION_ANNOTATION] = state["action"]
    doc["status"] = state.get("status") or {}
    doc["events"] = state.get("events") or []
    return doc
