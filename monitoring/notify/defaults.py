"""A namespace's default notifications: the ConfigMap ``canaria-notifications`` (pure).

Like Argo Rollouts' notifications ConfigMap and Flagger's per-namespace AlertProviders, a
namespace's owner lists providers once for every rollout in it::

    apiVersion: v1
    kind: ConfigMap
    metadata: {name: canaria-notifications, namespace: ml}
    data:
      providers: |                # the same entries as a rollout's spec.notifications
        - provider: slack
          secretRef: {name: ml-slack}          # a Secret in this namespace, key url
        - provider: webhook
          secretRef: {name: ml-audit}          # keys url and hmacKey
          events: [started, step, promoted, failed, manual]

In local mode the same manifest lives in a file ``canaria-notifications.yaml`` beside the
rollout's YAML, with ``urlEnv`` / ``hmacKeyEnv`` entries.

**Precedence: the rollout's list adds to the namespace's.** Every rollout in the namespace
gets the namespace's entries, then its own. A rollout entry for the *same destination* as a
namespace entry (same provider and same Secret name and key, or same ``urlEnv``) replaces
it, so a rollout can change the events it hears from a shared channel without posting
twice. A rollout cannot remove a namespace entry: the namespace's owner decides those.

A ``secretRef`` has no namespace field (the parser refuses one): the Secret is always read
from the rollout's own namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from monitoring.notify.endpoints import (
    NotificationSpec,
    NotificationSpecError,
    parse_notifications,
)

CONFIG_MAP_NAME = "canaria-notifications"
PROVIDERS_KEY = "providers"
LOCAL_FILE_NAME = f"{CONFIG_MAP_NAME}.yaml"
"""Local mode: the file beside a rollout's YAML that plays the ConfigMap."""


def parse_defaults(data: Mapping[str, Any] | None) -> tuple[NotificationSpec, ...]:
    """The entries of a ``canaria-notifications`` ConfigMap's ``data`` (``None``, or no
    ``providers`` key: none). ``NotificationSpecError`` names the key, e.g.
    ``data.providers[1].provider: must be one of webhook, slack, teams``."""
    if data is None:
        return ()
    if not isinstance(data, Mapping):
        raise NotificationSpecError("data: must be a mapping of keys to text")
    unknown = sorted(str(key) for key in data if key != PROVIDERS_KEY)
    if unknown:
        raise NotificationSpecError(f"data.{unknown[0]}: unknown key (the one key is providers)")
    text = data.get(PROVIDERS_KEY)
    if text is None:
        return ()
    if not isinstance(text, str):
        raise NotificationSpecError(f"data.{PROVIDERS_KEY}: must be text (a YAML list)")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise NotificationSpecError(f"data.{PROVIDERS_KEY}: not valid YAML{where}") from None
    return tuple(parse_notifications(raw, where=f"data.{PROVIDERS_KEY}"))


def parse_local_file(doc: Any) -> tuple[NotificationSpec, ...]:
    """The entries of a local ``canaria-notifications.yaml`` (the ConfigMap manifest, or
    an empty file: none); errors name the key as ``parse_defaults`` does."""
    if doc is None:
        return ()
    if not isinstance(doc, Mapping) or doc.get("kind") != "ConfigMap":
        raise NotificationSpecError("kind: must be ConfigMap (the canaria-notifications manifest)")
    return parse_defaults(doc.get("data"))


def destination(entry: NotificationSpec) -> tuple[str, str | None, str, str | None]:
    """What makes two entries the same destination: provider, Secret name and key, urlEnv."""
    return (entry.provider, entry.secret_name, entry.secret_key, entry.url_env)


def merge(
    namespace: Iterable[NotificationSpec], rollout: Iterable[NotificationSpec]
) -> tuple[NotificationSpec, ...]:
    """The entries a rollout notifies (pure): the namespace's in order, each replaced by
    the rollout's (first) entry for the same destination, then the rollout's other entries
    in order."""
    own = list(rollout)
    first: dict[tuple[str, str | None, str, str | None], int] = {}
    for index, entry in enumerate(own):
        first.setdefault(destination(entry), index)
    used: set[int] = set()
    merged: list[NotificationSpec] = []
    for entry in namespace:
        match = first.get(destination(entry))
        if match is None:
            merged.append(entry)
        elif match not in used:  # a second namespace copy of it is replaced too
            used.add(match)
            merged.append(own[match])
    merged.extend(entry for index, entry in enumerate(own) if index not in used)
    return tuple(merged)
