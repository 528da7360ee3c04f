"""canaria's Grafana dashboards, written as code with grafana-foundation-sdk.

``generate`` renders every dashboard to JSON; ``python -m monitoring.dashboards`` writes
them to ``monitoring/dashboards/json/`` (the committed copies the chart ships as ConfigMaps
for Grafana's dashboard sidecar) or to any directory.
"""
