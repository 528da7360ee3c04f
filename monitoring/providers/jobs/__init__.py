"""Retraining Jobs: the ``retrain`` section, the start policy, and the launchers.

Launchers register in ``monitoring.providers.registry.job_launchers`` on import (their
interface is ``monitoring.providers.interfaces.JobLauncher``): ``kubernetes`` (a
``batch/v1`` Job from ``manifest.job_manifest``, through the shared ``kubeclient`` loader)
and ``local`` (``python -m canaria.cli retrain`` as a subprocess).
"""

from monitoring.providers.jobs import kubernetes, local  # noqa: F401  (register launchers)
