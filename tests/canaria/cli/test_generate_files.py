"""``canaria dashboards generate``, ``canaria rules generate`` and ``canaria dashboards
pictures``' argument errors, in-process: the same files as ``python -m monitoring.*``."""

from __future__ import annotations

from pathlib import Path

import pytest

from canaria.cli import main
from monitoring.dashboards.generate import JSON_DIR
from monitoring.rules.files import COMMITTED_DIR, FILE_NAME


def test_dashboards_generate_writes_the_committed_json_and_checks_it(tmp_path: Path) -> None:
    assert main(["dashboards", "generate", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.json"))
    assert written == sorted(p.name for p in JSON_DIR.glob("*.json"))
    for name in written:
        assert (tmp_path / name).read_text() == (JSON_DIR / name).read_text()
    assert main(["dashboards", "generate", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / written[0]).write_text("{}\n")
    assert main(["dashboards", "generate", "--out", str(tmp_path), "--check"]) == 1


def test_rules_generate_honours_out_and_settings_and_checks_that_file(tmp_path: Path) -> None:
    committed = (COMMITTED_DIR / FILE_NAME).read_text()
    assert main(["rules", "generate", "--out", str(tmp_path)]) == 0
    assert (tmp_path / FILE_NAME).read_text() == committed
    assert main(["rules", "generate", "--out", str(tmp_path), "--check"]) == 0
    # A check with other settings compares against what those settings would write.
    assert main(["rules", "generate", "--out", str(tmp_path), "--for", "5s", "--check"]) == 1
    assert main(["rules", "generate", "--out", str(tmp_path), "--for", "5s"]) == 0
    assert "for: 5s" in (tmp_path / FILE_NAME).read_text()
    assert main(["rules", "generate", "--out", str(tmp_path), "--for", "5s", "--check"]) == 0
    assert main(["rules", "generate", "--out", str(tmp_path / "none"), "--check"]) == 1


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["rules", "generate", "--for", "5x"], "'5x': must be a Prometheus duration"),
        (["rules", "generate", "--stuck-after", "0m"], "'0m': must be a Prometheus duration"),
        (
            ["dashboards", "pictures", "--prometheus", "http://x", "--out", "o", "--minutes", "0"],
            "'0': must be a positive number",
        ),
        (["dashboards"], "required: ACTION"),
    ],
)
def test_bad_arguments_are_refused_naming_the_value(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


def test_pictures_names_an_unreachable_prometheus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["dashboards", "pictures", "--prometheus", "http://127.0.0.1:1", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")
