"""The operator chart's CRD is a generated copy of k8s/crds/modelrollout.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from canaria.cli import main
from canaria.cli.chart_tools import CRD_COPY, CRD_HEADER, CRD_SOURCE, PROJECT_ROOT, sync_crd


def test_the_chart_copy_matches_the_source() -> None:
    copy = (PROJECT_ROOT / CRD_COPY).read_text()
    assert copy.startswith(CRD_HEADER)  # says it is generated, and by what
    assert copy == CRD_HEADER + (PROJECT_ROOT / CRD_SOURCE).read_text()
    assert yaml.safe_load(copy) == yaml.safe_load((PROJECT_ROOT / CRD_SOURCE).read_text())
    assert main(["chart", "sync-crd", "--check"]) == 0


def test_a_stale_copy_is_found_and_rewritten(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / CRD_SOURCE).parent.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / CRD_SOURCE, tmp_path / CRD_SOURCE)
    (tmp_path / CRD_COPY).parent.mkdir(parents=True)
    (tmp_path / CRD_COPY).write_text("# an old copy\n")
    argv = ["chart", "sync-crd", "--project-dir", str(tmp_path)]
    assert main([*argv, "--check"]) == 1
    assert "run canaria chart sync-crd" in capsys.readouterr().err
    assert (tmp_path / CRD_COPY).read_text() == "# an old copy\n"  # --check writes nothing
    assert main(argv) == 0
    assert sync_crd(tmp_path, check=True) is True
