"""``canaria train`` and ``canaria models``, in-process and as the installed command."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bentoml
import pytest

from canaria.cli import main
from canaria.cli.models import ModelRow, format_table, newest_first
from canaria.testing.running import VENV_BIN

pytestmark = pytest.mark.slow  # starts real processes or trains a model


def _run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_train_classic_saves_a_labelled_model_and_prints_its_metrics(
    bentoml_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _run_json(
        capsys,
        [
            "train",
            "classic",
            "--rows",
            "1500",
            "--seed",
            "3",
            "--label",
            "role=candidate",
            "--json",
        ],
    )
    model = bentoml.models.get(result["tag"])
    assert model.info.labels == {"role": "candidate"}
    assert model.info.metadata["training_params"]["n_rows"] == 1500
    assert result["metrics"] == model.info.metadata["metrics"]
    assert result["metrics"]["roc_auc"] > 0.75

    listed = _run_json(capsys, ["models", "--json"])
    assert listed[0]["tag"] == result["tag"]  # the newest comes first
    created = [datetime.fromisoformat(row["created"]) for row in listed]
    assert created == sorted(created, reverse=True)
    assert listed[0]["kind"] == "classic"
    assert listed[0]["labels"] == {"role": "candidate"}

    assert main(["models"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["TAG", "CREATED", "(UTC)"]
    assert table[1].startswith(result["tag"])
    assert "role=candidate" in table[1] and "roc_auc=" in table[1]


def test_train_classic_prints_tag_and_metrics_as_text(
    bentoml_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "classic", "--rows", "1000", "--scenario", "bad-batch", "--strength", "0.3"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("saved churn-classifier:")
    tag = lines[0].removeprefix("saved ")
    params = bentoml.models.get(tag).info.metadata["training_params"]
    assert (params["scenario"], params["strength"]) == ("bad-batch", 0.3)
    assert any(line.split()[0] == "accuracy" for line in lines[1:])
    assert f"  store                  {bentoml_home} (BENTOML_HOME)" in lines
    # A model trained on a drift scenario says so in its labels, and `canaria models` shows them.
    assert bentoml.models.get(tag).info.labels == {"scenario": "bad-batch", "strength": "0.3"}
    assert main(["models"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(tag))
    assert "scenario=bad-batch,strength=0.3" in row


@pytest.mark.slow
def test_train_llm_shows_a_progress_bar_with_steps_and_loss(
    bentoml_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "llm", "--max-steps", "3", "--seed", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("saved support-lm:")
    progress = captured.err
    assert "training support-lm" in progress and "3/3" in progress
    assert re.search(r"loss \d+\.\d{3}", progress), progress


def test_train_classic_shows_its_stages_and_the_store(
    bentoml_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "classic", "--rows", "800", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["store"] == str(bentoml_home)
    assert "training on 800 generated customers" in captured.err
    assert "saving to the BentoML store" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "classic", "--scenario", "covariate-shift", "--strength", "2"], "--strength"),
        (["train", "classic", "--scenario", "meteor"], "unknown scenario 'meteor'"),
        (["train", "classic", "--rows", "0"], "--rows"),
        (["train", "classic", "--rows", "many"], "expected a whole number, got 'many'"),
        (["train", "classic", "--label", "novalue"], "KEY=VALUE"),
        (["train", "llm", "--max-steps", "-1"], "--max-steps"),
        (["train"], "KIND"),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "classic", "--strength", "0.5"], "--strength needs --scenario"),
        (["train", "classic", "--rows", "50"], "n_rows must be at least 200"),
    ],
)
def test_arguments_checked_after_parsing_exit_2_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_table_shows_key_metrics_per_kind_newest_first() -> None:
    rows = [
        ModelRow(
            tag="churn-classifier:old",
            created=datetime(2025, 1, 1, tzinfo=UTC),
            kind="classic",
            metrics={"accuracy": 0.81234, "roc_auc": 0.9, "ece": 0.02, "log_loss": 0.4},
        ),
        ModelRow(
            tag="support-lm:new",
            created=datetime(2025, 1, 2, tzinfo=UTC),
            kind="llm",
            metrics={"perplexity": 41.5, "final_train_loss": 3.0},
            labels={"kind": "llm"},
        ),
    ]
    table = format_table(newest_first(rows)).splitlines()
    assert [line.split()[0] for line in table] == ["TAG", "support-lm:new", "churn-classifier:old"]
    assert table[1].endswith("perplexity=41.500")
    assert table[2].endswith("accuracy=0.812 roc_auc=0.900 ece=0.020")
    assert "log_loss" not in table[2]
    assert table[2].index("classic") == table[0].index("KIND")


def test_installed_command_trains_both_kinds_into_its_own_store(tmp_path: Path) -> None:
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "store")}

    def canaria(*args: str) -> str:
        done = subprocess.run(
            [str(VENV_BIN / "canaria"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    assert "no churn-classifier or support-lm models" in canaria("models")
    classic = json.loads(canaria("train", "classic", "--rows", "1000", "--json"))
    llm = json.loads(canaria("train", "llm", "--seed", "1", "--max-steps", "2", "--json"))
    assert llm["tag"].startswith("support-lm:")
    assert llm["metrics"]["perplexity"] > 0
    listed = json.loads(canaria("models", "--json"))
    assert [(row["tag"], row["kind"]) for row in listed] == [
        (llm["tag"], "llm"),
        (classic["tag"], "classic"),
    ]
    llm_params = bentoml_metadata(tmp_path / "store", llm["tag"])["training_params"]
    assert (llm_params["seed"], llm_params["max_steps"]) == (1, 2)


def bentoml_metadata(store: Path, tag: str) -> dict[str, Any]:
    """A model's metadata read straight from another store's ``model.yaml``."""
    import yaml

    name, version = tag.split(":")
    with (store / "models" / name / version / "model.yaml").open() as handle:
        return dict(yaml.safe_load(handle)["metadata"])


@pytest.mark.parametrize(
    "command", [["operator", "--local", "x.yaml"], ["router", "--config", "r"]]
)
def test_operator_and_router_take_a_log_format(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from canaria.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(command).log_format == "json"
    assert parser.parse_args([*command, "--log-format", "console"]).log_format == "console"
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--log-format", "xml"])
    assert "invalid choice: 'xml'" in capsys.readouterr().err
