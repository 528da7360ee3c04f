"""Traffic through a Gateway API HTTPRoute, read and patched with the ``kubernetes`` client.

Route settings (``RouteTarget.settings``, camelCase as in the CR or snake_case):
``name`` (the HTTPRoute; default: the target's name), ``namespace`` (default: the
target's), ``stableBackend`` and ``canaryBackend`` (backendRef names; default: the two
backendRefs of the route's last two-backend rule, stable first), ``port`` (default: the
port the route already uses). The rule shapes are in ``httproute`` (pure builders); this
module only reads the route and sends one JSON merge patch. A concurrent change to the route
makes the API server answer 409 (the patch carries the resourceVersion read); the patch is
then rebuilt from a fresh read, a few times at most.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from canaria.contracts.routes import Routes, validate_routes
from monitoring.providers.interfaces import RouteTarget, TrafficRouterError
from monitoring.providers.kubeclient import (
    MERGE_PATCH,
    LazyApi,
    call,
    retry_on_conflict,
)
from monitoring.providers.registry import snake_case_keys, traffic_routers
from monitoring.providers.traffic.httproute import (
    GROUP,
    PLURAL,
    VERSION,
    Backends,
    build_patch,
    read_routes,
)
from monitoring.providers.traffic.tenancy import check_backends_exist, check_route_access

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, CustomObjectsApi


@traffic_routers.register("gatewayapi")
class GatewayApiRouter:
    """Sets HTTPRoute backend weights, mirror filter and A/B match rule."""

    def __init__(
        self,
        *,
        api_client: ApiClient | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
    ) -> None:
        self._api: LazyApi[CustomObjectsApi] = LazyApi(
            "CustomObjectsApi", api_client, kubeconfig=kubeconfig, context=context
        )

    def get_routes(self, target: RouteTarget) -> Routes:
        settings = snake_case_keys(target.settings)
        route = self._read(target, settings)
        return read_routes(route, Backends.from_settings(settings, route))

    def set_routes(self, target: RouteTarget, routes: Routes) -> None:
        try:
            validate_routes(routes)
        except ValueError as error:
            raise TrafficRouterError(str(error)) from None
        settings = snake_case_keys(target.settings)
        namespace, name = _location(target, settings)

        def patch_route() -> None:
            route = self._read(target, settings)
            patch = build_patch(route, Backends.from_settings(settings, route), routes)
            call(
                f"patching HTTPRoute {namespace}/{name}",
                partial(
                    self._api().patch_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    namespace,
                    PLURAL,
                    name,
                    patch,
                    _content_type=MERGE_PATCH,
                ),
            )

        retry_on_conflict(patch_route)

    def _read(self, target: RouteTarget, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The route, once this rollout may touch it (``tenancy``): in its namespace or
        opted in, and forwarding to both backends already."""
        namespace, name = _location(target, settings)
        route = call(
            f"reading HTTPRoute {namespace}/{name}",
            lambda: self._api().get_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name
            ),
        )
        if not isinstance(route, dict):
            raise TrafficRouterError(f"HTTPRoute {namespace}/{name}: unexpected answer")
        route.setdefault("metadata", {}).setdefault("namespace", namespace)
        check_route_access(route, rollout_namespace=target.namespace)
        backends = Backends.from_settings(settings, route)
        check_backends_exist(route, backends.stable, backends.canary)
        return route


def _location(target: RouteTarget, settings: Mapping[str, Any]) -> tuple[str, str]:
    namespace = settings.get("namespace") or target.namespace
    return str(namespace), str(settings.get("name") or target.name)
