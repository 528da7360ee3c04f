"""Which routers the operator talks to, and with which token: a ModelRollout is untrusted.

Whoever may create a ModelRollout in one namespace must gain nothing beyond it. So the
operator's own configuration, never the rollout, decides:

* **Router addresses.** In a cluster a rollout names its router by Service (``router:
  {service: churn-router, port: 8080}``), resolved in the rollout's own namespace through
  that Service's EndpointSlices: every ready pod is one replica, set and verified each
  pass. A free ``adminUrl``/``adminUrls`` is only followed when it starts with one of the
  prefixes in ``$CANARIA_OPERATOR_ROUTER_URLS`` (comma-separated); in local mode loopback
  URLs (``127.0.0.1``, ``localhost``, ``[::1]``) are allowed as well, the files being the
  operator user's own.
* **Tokens.** ``tokenEnv`` only names a variable listed in ``$CANARIA_OPERATOR_TOKEN_ENVS``
  (default: ``CANARIA_ROUTER_ADMIN_TOKEN``); per-router tokens come from a Secret in the
  rollout's namespace (``adminTokenSecretRef``), which needs a Role granting that one
  Secret. Nothing else of the operator's environment can be named.
* **No answer bodies.** A router's error reaches Events and the status as its status code
  and reason phrase only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitoring.operator.traffic import replica_targets
from monitoring.providers.interfaces import RouteTarget, TrafficRouterError

ROUTER_URLS_ENV = "CANARIA_OPERATOR_ROUTER_URLS"
TOKEN_ENVS_ENV = "CANARIA_OPERATOR_TOKEN_ENVS"  # nosec B105 # the name of an environment variable, not a secret
DEFAULT_TOKEN_ENVS = ("CANARIA_ROUTER_ADMIN_TOKEN",)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_ADMIN_PORT = 8080
ENDPOINTSLICE_LABEL = "kubernetes.io/service-name"


def _listed(text: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


@dataclass(frozen=True)
class RouterPolicy:
    """The operator's rules for router addresses and token variables (pure checks)."""

    url_prefixes: tuple[str, ...] = ()
    token_envs: tuple[str, ...] = DEFAULT_TOKEN_ENVS
    allow_loopback: bool = False

    @classmethod
    def from_env(cls, *, local: bool, environ: Any = None) -> RouterPolicy:
        env = os.environ if environ is None else environ
        return cls(
            url_prefixes=_listed(env.get(ROUTER_URLS_ENV)),
            token_envs=_listed(env.get(TOKEN_ENVS_ENV)) or DEFAULT_TOKEN_ENVS,
            allow_loopback=local,
        )

    def check_url(self, url: str) -> None:
        """``TrafficRouterError`` unless ``url`` is allowed (before anything connects)."""
        host = urlsplit(url).hostname or ""
        if self.allow_loopback and host in LOOPBACK_HOSTS:
            return
        if any(url.startswith(prefix) for prefix in self.url_prefixes):
            return
        where = "loopback or " if self.allow_loopback else ""
        raise TrafficRouterError(
            f"router URL {url} is not allowed: the operator follows only {where}URLs "
            f"listed in ${ROUTER_URLS_ENV}; in a cluster name the router's Service instead"
        )

    def check_target(self, target: RouteTarget, *, url: bool = True) -> None:
        """The token variable, no literal token, and (``url``) the admin URL."""
        token_env = target.settings.get("tokenEnv") or target.settings.get("token_env")
        if token_env is not None and token_env not in self.token_envs:
            raise TrafficRouterError(
                f"tokenEnv {token_env} is not allowed: the operator reads only "
                f"{', '.join(self.token_envs)} (${TOKEN_ENVS_ENV}); use adminTokenSecretRef "
                "for a per-router token"
            )
        if target.settings.get("token") is not None:
            raise TrafficRouterError("a literal token is not allowed; use adminTokenSecretRef")
        address = target.settings.get("adminUrl") or target.settings.get("admin_url")
        if url and address:
            self.check_url(str(address))


EndpointLister = Callable[[str, str], Sequence[str]]
"""(namespace, service) -> the ready addresses of the Service's pods."""


@dataclass
class TrustedReplicas:
    """The operator's ``Resolver``: a rollout's route target -> one per router replica,
    each allowed by ``policy``. ``endpoints`` lists a Service's ready pod addresses (the
    EndpointSlice API in a cluster); without it, a ``service`` cannot be resolved."""

    policy: RouterPolicy
    endpoints: EndpointLister | None = None
    scheme: str = "http"

    def __call__(self, target: RouteTarget) -> list[RouteTarget]:
        service = target.settings.get("service")
        if service:
            # Addresses the operator resolved itself, in the rollout's namespace.
            targets = self._from_service(target, str(service))
            for each in targets:
                self.policy.check_target(each, url=False)
            return targets
        targets = replica_targets(target)
        for each in targets:
            self.policy.check_target(each)
        return targets

    def _from_service(self, target: RouteTarget, service: str) -> list[RouteTarget]:
        if self.endpoints is None:
            raise TrafficRouterError(
                f"router service {service}: no cluster to resolve it in (local mode takes "
                "adminUrl or adminUrls)"
            )
        port = int(target.settings.get("port") or DEFAULT_ADMIN_PORT)
        addresses = sorted(set(self.endpoints(target.namespace, service)))
        if not addresses:
            raise TrafficRouterError(
                f"router service {target.namespace}/{service} has no ready endpoints"
            )
        base = {
            k: v
            for k, v in target.settings.items()
            if k not in ("service", "port", "adminUrl", "adminUrls")
        }
        out = []
        for address in addresses:
            host = f"[{address}]" if ":" in address else address
            settings = {**base, "adminUrl": f"{self.scheme}://{host}:{port}"}
            out.append(RouteTarget(target.namespace, target.name, settings))
        return out


def kube_endpoints(api_client: Any) -> EndpointLister:
    """Ready addresses of a Service's pods from its EndpointSlices (``discovery.k8s.io/v1``),
    in the rollout's namespace only."""

    def list_ready(namespace: str, service: str) -> list[str]:
        from kubernetes.client import DiscoveryV1Api

        from monitoring.providers.kubeclient import call

        slices = call(
            f"listing EndpointSlices of Service {namespace}/{service}",
            lambda: DiscoveryV1Api(api_client).list_namespaced_endpoint_slice(
                namespace, label_selector=f"{ENDPOINTSLICE_LABEL}={service}"
            ),
        )
        ready: list[str] = []
        for endpoint_slice in slices.items or ():
            for endpoint in endpoint_slice.endpoints or ():
                conditions = endpoint.conditions
                if conditions is not None and conditions.ready is False:
                    continue
                ready.extend(endpoint.addresses or ())
        return ready

    return list_ready
