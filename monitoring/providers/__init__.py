"""Small provider interfaces, chosen by name from a registry (as Flagger does).

``base`` holds the contracts and the registries (``metrics_providers``,
``traffic_routers``); ``metrics`` and ``traffic`` hold the implementations, which the
registries import on first use.
"""
