"""Which model a built bento packs: read from the bento's manifest (``bento.yaml``).

``bentoml serve <bento>`` reads the shared model store, where ``name:latest`` may be newer
than the model the bento was built with, so a service running from a built bento serves
the version its manifest records (unless its environment names one).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def packed_model_tag(bento_info: Mapping[str, Any], model_name: str | None = None) -> str | None:
    """The first model tag ``bento_info`` (a parsed ``bento.yaml``) records for its
    services, only among tags of ``model_name`` when given; ``None`` when there is none."""
    for service in bento_info.get("services") or ():
        for model in service.get("models") or ():
            tag = str(model.get("tag", "")).strip()
            if tag and (model_name is None or tag.startswith(f"{model_name}:")):
                return tag
    return None


def bento_info_file(service_file: str) -> Path:
    """Where a built bento keeps its manifest for the service module at ``service_file``
    (``<bento>/src/services/<name>/service.py`` -> ``<bento>/bento.yaml``)."""
    return Path(service_file).resolve().parents[3] / "bento.yaml"


def recorded_model_tag(info_file: Path, model_name: str | None = None) -> str | None:
    """``packed_model_tag`` of the manifest at ``info_file``; ``None`` outside a bento."""
    if not info_file.is_file():
        return None
    return packed_model_tag(yaml.safe_load(info_file.read_text()) or {}, model_name)
