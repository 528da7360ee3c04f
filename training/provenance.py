"""Where a model came from: a fingerprint of its training data and the code version."""

from __future__ import annotations

import hashlib
import shutil
import subprocess  # nosec B404 # runs git describe with an argument list
from importlib import metadata as package_metadata
from pathlib import Path

import pandas as pd

_REPO_ROOT = Path(__file__).resolve().parents[1]


def data_fingerprint(frame: pd.DataFrame) -> str:
    """``sha256:<hex>`` of the frame as canonical CSV (pure).

    Columns and rows keep their order; floats are written with 17 significant digits so
    that equal data gives an equal hash on every platform and pandas version.
    """
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def code_version() -> str:
    """``git describe`` of the checkout this code runs from, else the package version.

    An installed package (a bento, an image) has no ``.git``; its version is the best
    answer there.
    """
    git = shutil.which("git")
    try:
        if git is None:  # no git here (an image): the package version below answers
            raise FileNotFoundError("git")
        completed = subprocess.run(  # nosec B603 # argv: git's absolute path, fixed flags
            [git, "describe", "--always", "--dirty", "--tags"],
            cwd=_REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        described = completed.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        described = ""
    if described:
        return f"git:{described}"
    try:
        return f"canaria=={package_metadata.version('canaria')}"
    except package_metadata.PackageNotFoundError:
        return "unknown"
