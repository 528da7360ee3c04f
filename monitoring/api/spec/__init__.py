"""The ModelRollout spec as typed dataclasses, parsed and validated from the CR's dict.

``parse_spec(obj["spec"])`` turns the camelCase dict Kubernetes stores into a frozen
``RolloutSpec`` or raises ``SpecError`` naming the offending field with its full path
(``spec.analysis.checks[1].max: ...``), so a handler can refuse a bad spec with a clear
message and keep running the last good one. The CRD's openAPIV3Schema
(``k8s/crds/modelrollout.yaml``) rejects most of the same mistakes at ``kubectl apply``;
this module also checks what a schema cannot (duplicate check names, increasing steps).

The status dataclasses live in ``monitoring.api.status``; the engine in ``monitoring.analysis``.

Manual control by plain kubectl (the kubectl plugin does the same):

* ``spec.paused: true`` pauses the rollout (traffic frozen) until set back to ``false``;
* the annotation ``canaria.dev/action`` with a value of ``Action`` (``promote``,
  ``promote-full``, ``abort``, ``retry``, ``rollback``, ``pause``, ``resume``) is a
  one-shot request: the operator hands it to the
  engine at the next reconcile and then removes the annotation.
"""

from monitoring.api.spec import model
from monitoring.api.spec.fields import CHECK_NAME_PATTERN, DURATION_PATTERN, parse_duration
from monitoring.api.spec.model import *  # noqa: F403  (the types, constants and SpecError)
from monitoring.api.spec.parse import parse_spec

__all__ = ["CHECK_NAME_PATTERN", "DURATION_PATTERN", "parse_duration", "parse_spec"]
__all__ += model.__all__
