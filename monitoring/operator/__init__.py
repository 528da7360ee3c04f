"""The ModelRollout operator: fetch a rollout, ask the analysis engine, apply its verdict.

``reconcile`` holds the one code path both modes share; ``handlers`` wires it to kopf (a
cluster), ``local`` to YAML files and a state file (no cluster). ``events`` turns each
decision into a Kubernetes Event, ``metrics`` into the operator's own Prometheus series.
"""
