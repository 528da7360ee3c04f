"""Small provider interfaces, chosen by name from a registry (as Flagger does).

``interfaces`` holds the Protocols and errors, ``registry`` the registries
(``metrics_providers``, ``traffic_routers``, ``job_launchers``); ``metrics``, ``traffic`` and
``jobs`` hold the implementations, which the registries import on first use; ``kubeclient``
loads the one Kubernetes API client the Kubernetes-facing providers and the operator share.
"""
