"""The ModelRollout resource's identity: API group, version, kind, plural, annotation."""

from __future__ import annotations

GROUP = "canaria.dev"
VERSION = "v1alpha1"
KIND = "ModelRollout"
PLURAL = "modelrollouts"
API_VERSION = f"{GROUP}/{VERSION}"
ACTION_ANNOTATION = f"{GROUP}/action"
"""Annotation a person sets (``kubectl annotate mr churn canaria.dev/action=rollback``)."""
