"""Traffic through the canaria router: its admin API, or its ConfigMap inside a cluster.

Settings, given to the provider (defaults) or per route in ``RouteTarget.settings`` (camelCase
as in the CR, or snake_case):

* ``adminUrl``: the router's admin base URL; ``GET``/``PUT /admin/routes``,
  ``POST /admin/promote``, with ``Authorization: Bearer TOKEN``. The token is ``token``,
  or read from the environment variable ``tokenEnv``, or from the Secret
  ``adminTokenSecretRef: {name, key}`` (key default ``token``) in the target's namespace.
  The operator's ClusterRole reads no Secrets, so ``tokenEnv`` is the default in a cluster;
  a Secret reference needs a Role granting ``get`` on that one Secret.
* ``configMap`` (used when there is no ``adminUrl``): the ConfigMap holding the router's
  YAML config under ``configMapKey`` (default ``config.yaml``). The provider rewrites
  ``canary_weight``/``mirror``/``match`` in it with one JSON merge patch; the router reloads
  the file and refuses a bad one, keeping its last good config. ``promote`` there copies
  ``upstreams.canary`` to ``upstreams.stable`` as the router's own promote does. The YAML
  is re-emitted, so comments in it are not kept.
* ``breaker`` (set by the operator from ``spec.analysis.fastAbort``, the router's own
  snake_case form): sent with every ``set_routes`` (``PUT /admin/routes`` body, or the
  config's ``breaker``), so the router's canary breaker has the rollout's limits;
  ``breaker_state`` reads it back (admin API only). The operator's ClusterRole grants no
  ConfigMaps (patching any ConfigMap in the cluster would be far too much): a Role in the
  rollout's namespace grants ``get`` and ``patch`` on that one ConfigMap.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import yaml

from canaria.contracts.routes import (
    PROMOTE_PATH,
    ROUTES_PATH,
    NothingToPromoteError,
    Routes,
    promoted_config,
    routes_body,
    validate_routes,
)
from monitoring.providers.interfaces import RouteTarget, TrafficRouterError
from monitoring.providers.kubeclient import (
    MERGE_PATCH,
    KubeApiError,
    LazyApiClient,
    call,
    retry_on_conflict,
)
from monitoring.providers.registry import snake_case_keys, traffic_routers

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, CoreV1Api

CONFIG_PATH = "/admin/config"
DEFAULT_CONFIG_MAP_KEY = "config.yaml"
DEFAULT_SECRET_KEY = "token"  # nosec B105 # the key name inside the Secret, not a secret
FORBIDDEN = 403
SECRET_ROLE_EXAMPLE = "k8s/examples/rbac/router-admin-token.yaml"  # nosec B105 # a path to an example manifest, not a secret
CONFIG_MAP_ROLE_EXAMPLE = "k8s/examples/rbac/router-config-map.yaml"
ResultT = TypeVar("ResultT")


def granted_call(action: str, request: Callable[[], ResultT], *, grant: str) -> ResultT:
    """``call``, with a 403 explained: the operator's ClusterRole grants no Secrets or
    ConfigMaps (least privilege), so the message says what Role to add."""
    try:
        return call(action, request)
    except KubeApiError as error:
        if error.status != FORBIDDEN:
            raise
        raise KubeApiError(f"{error}; grant the operator {grant}", error.status) from error


def _config_map_grant(namespace: str) -> str:
    return f"get and patch on this ConfigMap with a Role in {namespace} ({CONFIG_MAP_ROLE_EXAMPLE})"


def routes_from_body(body: Any) -> Routes:
    """``Routes`` from the admin API's (or the config file's) fields (pure)."""
    if not isinstance(body, Mapping):
        raise TrafficRouterError(f"router routes must be an object, got {body!r}")
    try:
        routes = Routes(
            canary_weight=body.get("canary_weight", 0),
            mirror=bool(body.get("mirror", False)),
            match=dict(body.get("match") or {}),
        )
        validate_routes(routes)
    except (TypeError, ValueError) as error:
        raise TrafficRouterError(f"router sent invalid routes: {error}") from None
    return routes


def parse_config_text(config_text: str) -> dict[str, Any]:
    """The router's YAML config as a dict (pure); bad YAML is a ``TrafficRouterError``."""
    try:
        config = yaml.safe_load(config_text) or {}
    except yaml.YAMLError as error:
        raise TrafficRouterError(f"router ConfigMap holds invalid YAML: {error}") from None
    if not isinstance(config, Mapping):
        raise TrafficRouterError("router ConfigMap config must be a mapping")
    return dict(config)


def config_with_routes(config_text: str, routes: Routes) -> str:
    """The router's YAML config with ``routes`` written into it (pure)."""
    return config_with_fields(config_text, routes_body(routes))


def config_with_fields(config_text: str, fields: Mapping[str, Any]) -> str:
    """The router's YAML config with top-level ``fields`` (routes, ``breaker``) replaced (pure)."""
    config = parse_config_text(config_text)
    return yaml.safe_dump({**config, **fields}, sort_keys=False)


def promoted_config_text(config_text: str) -> str:
    """The router's YAML config with the canary upstream as the stable one (pure), as the
    router's own ``POST /admin/promote`` does (``canaria.contracts.routes.promoted_config``)."""
    try:
        promoted = promoted_config(parse_config_text(config_text))
    except NothingToPromoteError:
        raise TrafficRouterError("router config has no upstreams.canary to promote") from None
    return yaml.safe_dump(promoted, sort_keys=False)


def config_map_patch(
    config_map: Mapping[str, Any], key: str, rewrite: Callable[[str], str]
) -> dict[str, Any]:
    """The merge patch that applies ``rewrite`` to the config at ``key`` (pure); it carries
    the resourceVersion read, so a concurrent change is refused."""
    text = (config_map.get("data") or {}).get(key)
    if text is None:
        name = config_map.get("metadata", {}).get("name", "?")
        raise TrafficRouterError(f"ConfigMap {name} has no key {key!r}")
    patch: dict[str, Any] = {"data": {key: rewrite(text)}}
    resource_version = config_map.get("metadata", {}).get("resourceVersion")
    if resource_version:
        patch["metadata"] = {"resourceVersion": resource_version}
    return patch


@traffic_routers.register("router")
class CanariaRouter:
    """Reads and sets the canaria router's split; ``promote`` makes the canary the stable."""

    def __init__(
        self,
        *,
        admin_url: str | None = None,
        token: str | None = None,
        token_env: str | None = None,
        admin_token_secret_ref: Mapping[str, str] | None = None,
        config_map: str | None = None,
        config_map_key: str = DEFAULT_CONFIG_MAP_KEY,
        timeout: float = 5.0,
        api_client: ApiClient | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
    ) -> None:
        given = {
            "admin_url": admin_url,
            "token": token,
            "token_env": token_env,
            "admin_token_secret_ref": admin_token_secret_ref,
            "config_map": config_map,
            "config_map_key": config_map_key,
        }
        self._defaults = {key: value for key, value in given.items() if value is not None}
        self._http = httpx.Client(timeout=timeout)
        self._api_client = LazyApiClient(api_client, kubeconfig=kubeconfig, context=context)

    def get_routes(self, target: RouteTarget) -> Routes:
        settings = self._settings(target)
        if settings.get("admin_url"):
            return routes_from_body(self._admin(target, settings, "GET", ROUTES_PATH))
        namespace, name, key = self._config_map_location(target, settings)
        text = (self._read_config_map(namespace, name).get("data") or {}).get(key)
        if text is None:
            raise TrafficRouterError(f"ConfigMap {namespace}/{name} has no key {key!r}")
        return routes_from_body(parse_config_text(text))

    def set_routes(self, target: RouteTarget, routes: Routes) -> None:
        try:
            validate_routes(routes)
        except ValueError as error:
            raise TrafficRouterError(str(error)) from None
        settings = self._settings(target)
        body = routes_body(routes)
        if isinstance(settings.get("breaker"), Mapping):
            body["breaker"] = dict(settings["breaker"])
        if settings.get("admin_url"):
            self._admin(target, settings, "PUT", ROUTES_PATH, body)
            return
        self._patch_config_map(target, settings, partial(config_with_fields, fields=body))

    def breaker_state(self, target: RouteTarget) -> Mapping[str, Any] | None:
        """The canary breaker as the router shows it (``{open, tripped_at, reason,
        failures, window_requests, window_seconds}``; ``{}`` when the router has none), or
        ``None`` when it is driven through a ConfigMap (no admin API to read the live state
        from; the config's breaker is written with every ``set_routes``)."""
        settings = self._settings(target)
        if not settings.get("admin_url"):
            return None
        body = self._admin(target, settings, "GET", ROUTES_PATH)
        state = ((body or {}).get("breaker") or {}) if isinstance(body, Mapping) else {}
        canary = state.get("canary") if isinstance(state, Mapping) else None
        return dict(canary) if isinstance(canary, Mapping) else {}

    def promote(self, target: RouteTarget) -> None:
        """The router's canary upstream becomes its stable one, with all traffic."""
        settings = self._settings(target)
        if settings.get("admin_url"):
            self._admin(target, settings, "POST", PROMOTE_PATH)
        else:
            self._patch_config_map(target, settings, promoted_config_text)

    def upstreams(self, target: RouteTarget) -> dict[str, str]:
        """``{"stable": url, "canary": url}``: the upstreams the router serves now."""
        settings = self._settings(target)
        if settings.get("admin_url"):
            config = self._admin(target, settings, "GET", CONFIG_PATH)
        else:
            namespace, name, key = self._config_map_location(target, settings)
            text = (self._read_config_map(namespace, name).get("data") or {}).get(key)
            config = parse_config_text(text or "")
        found = (config or {}).get("upstreams") if isinstance(config, Mapping) else None
        out: dict[str, str] = {}
        for variant in ("stable", "canary"):
            upstream = (found or {}).get(variant) if isinstance(found, Mapping) else None
            if isinstance(upstream, Mapping) and isinstance(upstream.get("url"), str):
                out[variant] = upstream["url"].rstrip("/")
        return out

    def close(self) -> None:
        self._http.close()

    # --- admin API -----------------------------------------------------------------------

    def _settings(self, target: RouteTarget) -> dict[str, Any]:
        return {**self._defaults, **snake_case_keys(target.settings)}

    def _admin(
        self,
        target: RouteTarget,
        settings: Mapping[str, Any],
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        url = f"{str(settings['admin_url']).rstrip('/')}{path}"
        headers = {"Authorization": f"Bearer {self._token(target, settings)}"}
        try:
            response = self._http.request(method, url, json=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            reason = type(error).__name__
            raise TrafficRouterError(f"router admin {url} unreachable ({reason})") from error
        if response.status_code == 401:
            raise TrafficRouterError(f"router admin {url} refused the token (401)")
        if response.status_code != 200:
            # The status and its reason phrase only: the body is the other side's text,
            # which must never reach an Event or the status.
            raise TrafficRouterError(
                f"router admin {method} {url} answered {response.status_code} "
                f"{response.reason_phrase}".rstrip()
            )
        try:
            return response.json() if response.content else None
        except ValueError:
            raise TrafficRouterError(f"router admin {url} sent non-JSON") from None

    def _token(self, target: RouteTarget, settings: Mapping[str, Any]) -> str:
        if settings.get("token"):
            return str(settings["token"])
        if settings.get("token_env"):
            token = os.environ.get(str(settings["token_env"]))
            if not token:
                raise TrafficRouterError(f"environment variable {settings['token_env']} is unset")
            return token
        ref = settings.get("admin_token_secret_ref")
        if isinstance(ref, Mapping) and ref.get("name"):
            key = str(ref.get("key") or DEFAULT_SECRET_KEY)
            return self._secret_value(target.namespace, str(ref["name"]), key)
        raise TrafficRouterError("router admin needs token, tokenEnv or adminTokenSecretRef")

    # --- Kubernetes (Secret, ConfigMap) ----------------------------------------------------

    def _core(self) -> CoreV1Api:
        from kubernetes.client import CoreV1Api

        return CoreV1Api(self._api_client())

    def _secret_value(self, namespace: str, name: str, key: str) -> str:
        secret = granted_call(
            f"reading Secret {namespace}/{name}",
            lambda: self._core().read_namespaced_secret(name, namespace),
            grant=f"get on this Secret with a Role in {namespace} ({SECRET_ROLE_EXAMPLE}), "
            "or use tokenEnv",
        )
        encoded = (secret.data or {}).get(key)
        if encoded is None:
            raise TrafficRouterError(f"Secret {namespace}/{name} has no key {key!r}")
        return base64.b64decode(encoded).decode().strip()

    def _config_map_location(
        self, target: RouteTarget, settings: Mapping[str, Any]
    ) -> tuple[str, str, str]:
        name = settings.get("config_map")
        if not name:
            raise TrafficRouterError("router settings need an adminUrl or a configMap")
        key = str(settings.get("config_map_key") or DEFAULT_CONFIG_MAP_KEY)
        # The rollout's own namespace, always: a rollout touches nothing beyond it.
        return target.namespace, str(name), key

    def _read_config_map(self, namespace: str, name: str) -> dict[str, Any]:
        api = self._core()
        config_map = granted_call(
            f"reading ConfigMap {namespace}/{name}",
            lambda: api.read_namespaced_config_map(name, namespace),
            grant=_config_map_grant(namespace),
        )
        return dict(api.api_client.sanitize_for_serialization(config_map))

    def _patch_config_map(
        self, target: RouteTarget, settings: Mapping[str, Any], rewrite: Callable[[str], str]
    ) -> None:
        namespace, name, key = self._config_map_location(target, settings)

        def patch_config_map() -> None:
            patch = config_map_patch(self._read_config_map(namespace, name), key, rewrite)
            granted_call(
                f"patching ConfigMap {namespace}/{name}",
                partial(
                    self._core().patch_namespaced_config_map,
                    name,
                    namespace,
                    patch,
                    _content_type=MERGE_PATCH,
                ),
                grant=_config_map_grant(namespace),
            )

        retry_on_conflict(patch_config_map)
