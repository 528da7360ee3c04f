"""The test kit: real processes on loopback ports, fake model servers, the router and the
local operator as subprocesses, a Kubernetes API stub, Prometheus, and one ``wait_until``.

Tests, ``bench/`` and the demo use it; runtime code (services, monitoring, training, the
CLI) never imports it (``.importlinter`` enforces it).
"""
