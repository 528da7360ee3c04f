"""Session fixtures: a private BentoML store with freshly trained small models.

BENTOML_HOME is set here, before anything imports bentoml, so that neither the tests nor
the ``bentoml serve`` processes they start touch the user's own store. Likewise every
test gets its own local-mode state directory (``CANARIA_STATE_DIR``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hypothesis_budget import load_profile

_BENTOML_HOME = Path(tempfile.mkdtemp(prefix="canaria-test-bentoml-"))
os.environ["BENTOML_HOME"] = str(_BENTOML_HOME)
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
load_profile()  # every Hypothesis test seeded (tests/hypothesis_budget.py)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's local-mode state directory (inherited by the processes it starts)."""
    directory = tmp_path / "canaria-state"
    monkeypatch.setenv("CANARIA_STATE_DIR", str(directory))
    return directory


@pytest.fixture(scope="session")
def bentoml_home() -> Iterator[Path]:
    """The test session's BentoML store (removed at the end of the session)."""
    yield _BENTOML_HOME
    shutil.rmtree(_BENTOML_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def classic_model_tag(bentoml_home: Path) -> str:
    """A small churn classifier trained and saved once per session."""
    from training.classic import train_and_save

    return str(train_and_save(seed=7, n_rows=4000))


@pytest.fixture(scope="session")
def llm_model_tag(bentoml_home: Path) -> str:
    """A tiny GPT-2-style model and tokenizer trained and saved once per session."""
    from training.llm import train_and_save

    return str(train_and_save(seed=7, max_steps=30))
