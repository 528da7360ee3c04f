"""Where a rollout's namespace keeps its default notifications, and the last good copy.

In a cluster: the ConfigMap ``canaria-notifications`` in the rollout's own namespace (never
another's), read through ``monitoring.providers.configmaps``; the operator's ClusterRole
grants ``get`` on ConfigMaps of that one name. In local mode: the file
``canaria-notifications.yaml`` beside the rollout's YAML (the same manifest), whose entries
use ``urlEnv`` as a local rollout's do. Parsing and precedence are pure
(``monitoring.notify.defaults``).

``NamespaceDefaults`` reads each source at most once per ``RESOLVE_SECONDS``; content that
does not parse is refused with a message naming the key, and the last good entries of that
source stay in use (none if there never were any). A missing ConfigMap or file means no
defaults. Nothing here raises into a reconcile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import yaml

from monitoring.notify.defaults import (
    CONFIG_MAP_NAME,
    LOCAL_FILE_NAME,
    parse_defaults,
    parse_local_file,
)
from monitoring.notify.endpoints import NotificationSpec, NotificationSpecError
from monitoring.operator.events import RolloutRef
from monitoring.providers.configmaps import KubeConfigMaps
from monitoring.providers.interfaces import ProviderError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

RESOLVE_SECONDS = 60.0
CLUSTER_ROLE = "k8s/operator/rbac.yaml"


class DefaultsSource(Protocol):
    """One kind of place the defaults live. ``locate``: (cache key, what to call it in a
    message); ``load``: the entries there (``NotificationSpecError``: invalid content;
    ``ProviderError`` or ``OSError``: unreadable)."""

    def locate(self, ref: RolloutRef) -> tuple[str, str] | None: ...

    def load(self, ref: RolloutRef) -> tuple[NotificationSpec, ...]: ...


class KubeDefaults:
    """The ConfigMap ``canaria-notifications`` in the rollout's namespace."""

    def __init__(self, api_client: ApiClient | None = None) -> None:
        grant = f"get on ConfigMaps named {CONFIG_MAP_NAME} (the ClusterRole in {CLUSTER_ROLE})"
        self._configmaps = KubeConfigMaps(api_client, grant=grant)

    def locate(self, ref: RolloutRef) -> tuple[str, str]:
        return ref.namespace, f"ConfigMap {ref.namespace}/{CONFIG_MAP_NAME}"

    def load(self, ref: RolloutRef) -> tuple[NotificationSpec, ...]:
        return parse_defaults(self._configmaps.read(ref.namespace, CONFIG_MAP_NAME))


class FileDefaults:
    """Local mode: ``canaria-notifications.yaml`` beside the rollout's file (``path_of``)."""

    def __init__(self, path_of: Callable[[RolloutRef], Path | None]) -> None:
        self._path_of = path_of

    def _file(self, ref: RolloutRef) -> Path | None:
        rollout = self._path_of(ref)
        return None if rollout is None else rollout.resolve().parent / LOCAL_FILE_NAME

    def locate(self, ref: RolloutRef) -> tuple[str, str] | None:
        path = self._file(ref)
        return None if path is None else (str(path), str(path))

    def load(self, ref: RolloutRef) -> tuple[NotificationSpec, ...]:
        path = self._file(ref)
        if path is None or not path.exists():
            return ()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raise NotificationSpecError("not valid YAML") from None
        return parse_local_file(doc)


@dataclass
class _Loaded:
    entries: tuple[NotificationSpec, ...]
    problem: str
    at: float


class NamespaceDefaults:
    """The default entries for a rollout, cached per source (namespace or folder)."""

    def __init__(
        self, source: DefaultsSource, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._source = source
        self._monotonic = monotonic
        self._guard = threading.Lock()
        self._loaded: dict[str, _Loaded] = {}

    def entries(self, ref: RolloutRef) -> tuple[tuple[NotificationSpec, ...], str]:
        """``(entries, problem)``: the defaults in force for ``ref`` and, when the source
        could not be used this time, why (``""`` otherwise)."""
        located = self._source.locate(ref)
        if located is None:
            return (), ""
        key, name = located
        now = self._monotonic()
        with self._guard:
            cached = self._loaded.get(key)
        if cached is not None and now - cached.at < RESOLVE_SECONDS:
            return cached.entries, cached.problem
        last_good = cached.entries if cached is not None else ()
        try:
            loaded = _Loaded(self._source.load(ref), "", now)
        except NotificationSpecError as error:
            loaded = _Loaded(last_good, f"{name}: {error}; {_kept(last_good)}", now)
        except (ProviderError, OSError) as error:
            loaded = _Loaded(last_good, f"{name} unreadable: {error}; {_kept(last_good)}", now)
        with self._guard:
            self._loaded[key] = loaded
        return loaded.entries, loaded.problem


def _kept(last_good: tuple[NotificationSpec, ...]) -> str:
    if last_good:
        return f"the last good defaults ({len(last_good)} entries) are kept"
    return "no namespace defaults until it is fixed"
