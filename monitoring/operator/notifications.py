"""Notifications from the operator (issue 11): one ``Notifier`` per operator, called at the
reconcile's announce step, after the decision's traffic, status and Event are applied.

Each rollout's ``spec.notifications`` entry becomes an ``Endpoint``: its URL (and, for the
generic webhook, its HMAC key) comes from a Secret in the rollout's namespace (keys: the
entry's ``secretRef.key``, default ``url``, and ``hmacKey``), read with the operator's own
credentials only where a Role grants ``get`` on that one Secret
(``k8s/examples/rbac/notification-secret.yaml``); in local mode from the operator's
environment (``urlEnv``, ``hmacKeyEnv``), which a cluster operator refuses (a rollout's
author must not pick which of the operator's variables it reads). Endpoints are cached per
rollout for ``RESOLVE_SECONDS``, so a rotated Secret is picked up within that.

Namespace defaults (``defaults``: the ConfigMap ``canaria-notifications`` of the rollout's
namespace, or ``canaria-notifications.yaml`` beside a local rollout;
``monitoring/operator/notification_defaults.py``) come first; the rollout's own entries add
to them and replace the one for the same destination (``monitoring.notify.defaults.merge``).
Every problem (an invalid ConfigMap, an unreadable Secret) is posted once, as a Warning
Event ``InvalidNotifications`` on the rollout, and logged.

Sending never blocks or fails a decision: ``Notifier`` queues and posts from its own thread
with a bounded timeout and retries; an endpoint that cannot be resolved is logged (once per
distinct problem) and skipped. Outcomes are ``canaria_notifications_total`` on the
operator's ``/metrics``.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry

from canaria.contracts.logs import get_logger
from monitoring.analysis import Decision
from monitoring.api.spec import Action, RolloutSpec
from monitoring.api.status import format_time
from monitoring.notify.defaults import merge
from monitoring.notify.endpoints import HMAC_KEY, Endpoint, NotificationSpec
from monitoring.notify.messages import notification_for
from monitoring.notify.sender import Notifier, SendPolicy
from monitoring.operator.events import EventReason, EventRecorder, RolloutRef
from monitoring.operator.notification_defaults import NamespaceDefaults
from monitoring.providers.interfaces import ProviderError
from monitoring.providers.traffic.router import granted_call

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

_log = get_logger("operator.notifications")
RESOLVE_SECONDS = 60.0
SECRET_ROLE_EXAMPLE = "k8s/examples/rbac/notification-secret.yaml"  # nosec B105 # a path to an example manifest, not a secret


class NotificationSetupError(RuntimeError):
    """An entry whose URL cannot be had; the message names the entry, never the URL."""


class SecretReader(Protocol):
    """Reads a Secret's data, decoded (key -> text)."""

    def read(self, namespace: str, name: str) -> Mapping[str, str]: ...


class KubeSecrets:
    """Secrets through the Kubernetes API; a 403 says which Role to add."""

    def __init__(self, api_client: ApiClient) -> None:
        self._api_client = api_client

    def read(self, namespace: str, name: str) -> dict[str, str]:
        from kubernetes.client import CoreV1Api

        secret = granted_call(
            f"reading Secret {namespace}/{name}",
            lambda: CoreV1Api(self._api_client).read_namespaced_secret(name, namespace),
            grant=f"get on this Secret with a Role in {namespace} ({SECRET_ROLE_EXAMPLE})",
        )
        data = secret.data or {}
        return {key: base64.b64decode(value).decode().strip() for key, value in data.items()}


def endpoint_for(
    entry: NotificationSpec,
    *,
    namespace: str,
    secrets: SecretReader | None,
    environ: dict[str, str] | None,
) -> Endpoint:
    """The ``Endpoint`` of one entry: from its Secret (``secrets``) or, in local mode
    (``environ`` given), its environment variables. ``NotificationSetupError`` when the
    source is not available here or holds no URL."""
    if entry.url_env is not None:
        if environ is None:
            raise NotificationSetupError(
                f"{entry.provider}: urlEnv is for local mode; use a secretRef in a cluster"
            )
        url = environ.get(entry.url_env)
        key = environ.get(entry.hmac_key_env) if entry.hmac_key_env else None
        where = f"environment variable {entry.url_env}"
    else:
        if secrets is None or entry.secret_name is None:
            raise NotificationSetupError(
                f"{entry.provider}: secretRef needs the Kubernetes API; in local mode use urlEnv"
            )
        data = secrets.read(namespace, entry.secret_name)
        url, key = data.get(entry.secret_key), data.get(HMAC_KEY)
        where = f"Secret {namespace}/{entry.secret_name} key {entry.secret_key}"
    if not url:
        raise NotificationSetupError(f"{entry.provider}: {where} is unset or empty")
    try:
        return Endpoint(
            provider=entry.provider,
            url=url,
            events=entry.events,
            signing_key=key.encode() if key else None,
        )
    except ValueError:
        raise NotificationSetupError(f"{entry.provider}: {where} is not an http(s) URL") from None


@dataclass
class _Resolved:
    entries: tuple[NotificationSpec, ...]
    endpoints: tuple[Endpoint, ...]
    at: float
    problems: str


def _label(
    entry: NotificationSpec,
    own: tuple[NotificationSpec, ...],
    shared: tuple[NotificationSpec, ...],
) -> str:
    """Where an entry came from: ``spec.notifications[i]`` or the namespace's
    ``canaria-notifications`` ``data.providers[i]``."""
    if entry in own:
        return f"spec.notifications[{own.index(entry)}]"
    return f"canaria-notifications data.providers[{shared.index(entry)}]"


class RolloutNotifier:
    """The operator's notifier: ``announce`` once per reconcile. The sending thread starts
    with the first notification; ``close`` stops it (queued messages get a few seconds)."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        secrets: SecretReader | None = None,
        local: bool = False,
        policy: SendPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        defaults: NamespaceDefaults | None = None,
        events: EventRecorder | None = None,
    ) -> None:
        self._registry = registry
        self.defaults = defaults
        self.events = events
        self._secrets = secrets
        self._local = local
        self._policy = policy
        self._monotonic = monotonic
        self._guard = threading.Lock()
        self._notifier: Notifier | None = None
        self._closed = False
        self._resolved: dict[str, _Resolved] = {}
        self._problems: dict[str, str] = {}

    def announce(
        self,
        ref: RolloutRef,
        spec: RolloutSpec,
        decision: Decision,
        *,
        action: Action | None,
        now: datetime,
    ) -> None:
        """Queue the decision's notification for the rollout's endpoints. Never raises."""
        try:
            self._announce(ref, spec, decision, action=action, now=now)
        except Exception as error:  # a notification must never fail a reconcile
            _log.warning("notification not sent", extra={"rollout": ref.key, "error": repr(error)})

    def problem(self, ref: RolloutRef) -> str | None:
        """Why some of the rollout's entries were skipped at the last resolve, if any."""
        with self._guard:
            return self._problems.get(ref.key) or None

    def forget(self, ref: RolloutRef) -> None:
        with self._guard:
            self._resolved.pop(ref.key, None)
            self._problems.pop(ref.key, None)

    def close(self) -> None:
        with self._guard:
            notifier, self._notifier = self._notifier, None
            self._closed = True
        if notifier is not None:
            notifier.close()

    def _announce(
        self,
        ref: RolloutRef,
        spec: RolloutSpec,
        decision: Decision,
        *,
        action: Action | None,
        now: datetime,
    ) -> None:
        if not spec.notifications and self.defaults is None:
            return
        status = decision.status
        checks = [c.to_dict() for c in decision.analysis.checks] if decision.analysis else []
        notification = notification_for(
            rollout=ref.key,
            decision=decision.kind.value,
            phase=status.phase.value,
            canary_weight=status.canary_weight,
            message=decision.message,
            time=format_time(now),
            checks=checks,
            manual=action is not None,
        )
        if notification is None:
            return
        endpoints = self._endpoints(ref, spec.notifications, now)
        if endpoints:
            self._sender().notify(endpoints, notification)

    def _endpoints(
        self, ref: RolloutRef, own: tuple[NotificationSpec, ...], now: datetime
    ) -> tuple[Endpoint, ...]:
        shared, problem = self.defaults.entries(ref) if self.defaults else ((), "")
        entries = merge(shared, own)
        started = self._monotonic()
        with self._guard:
            cached = self._resolved.get(ref.key)
        if cached and cached.entries == entries and started - cached.at < RESOLVE_SECONDS:
            self._report(ref, "; ".join(p for p in (problem, cached.problems) if p), now)
            return cached.endpoints
        environ = dict(os.environ) if self._local else None
        endpoints, problems = [], []
        for entry in entries:
            try:
                endpoints.append(
                    endpoint_for(
                        entry, namespace=ref.namespace, secrets=self._secrets, environ=environ
                    )
                )
            except (NotificationSetupError, ProviderError) as error:
                problems.append(f"{_label(entry, own, shared)}: {error}")
        resolved = _Resolved(entries, tuple(endpoints), started, "; ".join(problems))
        with self._guard:
            self._resolved[ref.key] = resolved
        self._report(ref, "; ".join(p for p in (problem, resolved.problems) if p), now)
        return resolved.endpoints

    def _report(self, ref: RolloutRef, problems: str, now: datetime) -> None:
        with self._guard:
            news = problems and self._problems.get(ref.key) != problems
            self._problems[ref.key] = problems
        if not news:
            return
        _log.warning(f"notifications: {problems}", extra={"rollout": ref.key})
        if self.events is not None:
            reason = EventReason.INVALID_NOTIFICATIONS
            self.events.record(rollout=ref, reason=reason, message=problems, now=now)

    def _sender(self) -> Notifier:
        with self._guard:
            if self._closed:
                raise RuntimeError("the notifier is closed (the operator is stopping)")
            if self._notifier is None:
                self._notifier = Notifier(policy=self._policy, registry=self._registry)
            return self._notifier
