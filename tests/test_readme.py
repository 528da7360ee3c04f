"""The README's promises: its two commands, and ModelRollout examples the CRD accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring.api.spec import parse_spec
from tests.k8s.test_crd import errors_for

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()


def yaml_blocks() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.DOTALL)
    return [yaml.safe_load(block) for block in blocks]


def rollout_examples() -> list[dict[str, Any]]:
    return [block for block in yaml_blocks() if block.get("kind") == "ModelRollout"]


def test_readme_shows_the_two_commands_first() -> None:
    first_code_block = re.search(r"```bash\n(.*?)```", TEXT, flags=re.DOTALL)
    assert first_code_block is not None
    assert "make demo" in first_code_block.group(1)
    assert "make test" in first_code_block.group(1)


def test_readme_has_a_rollout_example() -> None:
    assert rollout_examples(), "README.md shows no ModelRollout"


@pytest.mark.parametrize("index", range(len(rollout_examples())))
def test_readme_rollouts_are_accepted_by_the_crd_and_the_parser(index: int) -> None:
    rollout = rollout_examples()[index]
    assert errors_for(rollout) == []
    parse_spec(rollout["spec"])


def test_every_linked_file_exists() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", TEXT)
    missing = [link for link in links if not (README.parent / link).exists()]
    assert missing == []
