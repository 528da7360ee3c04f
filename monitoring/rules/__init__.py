"""Prometheus recording and alerting rules for canaria, written as code.

``build`` holds the rules (pure dicts); ``files`` renders them to the committed
``canaria-rules.yaml``; ``python -m monitoring.rules`` regenerates it (or writes elsewhere).
"""
