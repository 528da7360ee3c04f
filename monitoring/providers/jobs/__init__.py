"""Retraining Jobs: the ``retrain`` section, the start policy, and the launchers.

Launchers register on import: ``kubernetes`` (a ``batch/v1`` Job from
``manifest.job_manifest``) and ``local`` (a ``canaria retrain`` subprocess).
"""

from monitoring.providers.jobs import kubernetes, local  # noqa: F401  (register launchers)
