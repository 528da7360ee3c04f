"""``make demo`` / ``python -m canaria.demo``: the whole local loop, scripted and bounded.

It trains the models into a demo-private BentoML store, serves them with ``bentoml serve``,
runs two canary rollouts through the canaria router and the local-mode operator (a healthy
candidate that is promoted, a concept-drifted one that the shadow comparison rolls back),
queries Prometheus where it is installed, and writes a self-contained HTML report.

Modules, one job each: ``settings`` (what a full or ``--quick`` run uses), ``stack``
(processes on loopback ports, stopped by PID), ``models`` (training), ``serving`` and
``showcase`` (``bentoml serve``; one prediction, one chat, one stream), ``traffic`` (the
bounded traffic generator), ``rollout`` (router + operator per rollout) and ``watch`` (the
live lines), ``prometheus``, ``report`` and ``charts`` (HTML with inline SVG), ``console``
(output), ``results`` (the plain data the report is made of) and ``script`` (the scenario,
step by step).
"""
