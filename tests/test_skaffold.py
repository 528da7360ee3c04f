"""skaffold.yaml: valid for skaffold/v4beta13 as written and with each profile applied,
every image a release names is one it builds, the build scripts call commands that exist
with the flags they use, and the charts render with the values skaffold would set."""

from __future__ import annotations

import copy
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from canaria.cli.chart_tools import helm_binary
from tests.charts.helm import ROOT, SHARED_SCHEMAS, render, validate

SKAFFOLD = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
PROFILES = [None, *[profile["name"] for profile in SKAFFOLD["profiles"]]]
TEMPLATE = re.compile(r"\{\{\.IMAGE_(REPO|TAG)_([A-Za-z0-9_]+)\}\}")


def _pointer(doc: Any, path: str) -> tuple[Any, str]:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    for part in parents:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc, last


def apply_patch(config: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add/replace, the two operations the profiles use."""
    out = copy.deepcopy(config)
    for patch in patches:
        parent, key = _pointer(out, patch["path"])
        assert patch["op"] in ("add", "replace"), patch
        if isinstance(parent, list):
            index = len(parent) if key == "-" else int(key)
            if patch["op"] == "add":
                parent.insert(index, patch["value"])
            else:
                parent[index] = patch["value"]
        else:
            assert patch["op"] == "add" or key in parent, f"replace of missing {patch['path']}"
            parent[key] = patch["value"]
    return out


def effective(profile: str | None) -> dict[str, Any]:
    if profile is None:
        return SKAFFOLD
    (found,) = [p for p in SKAFFOLD["profiles"] if p["name"] == profile]
    return apply_patch(SKAFFOLD, found["patches"])


@pytest.fixture(scope="module")
def helm4() -> Path:
    return helm_binary(4)


def artifact_key(image: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", image)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p or "default")
def test_valid_for_the_v4beta13_schema(profile: str | None) -> None:
    schema = json.loads((SHARED_SCHEMAS / "skaffold-v4beta13.json").read_text())
    config = effective(profile)
    assert config["apiVersion"] == "skaffold/v4beta13"
    errors = [
        f"{list(e.path)}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(config)
    ]
    assert errors == []


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p or "default")
def test_every_image_a_release_names_is_built(profile: str | None) -> None:
    config = effective(profile)
    built = {artifact_key(a["image"]) for a in config["build"]["artifacts"]}
    named = set()
    for release in config["deploy"]["helm"]["releases"]:
        assert (ROOT / release["chartPath"] / "Chart.yaml").exists()
        for value in release.get("setValueTemplates", {}).values():
            named |= {name for _, name in TEMPLATE.findall(value)}
    assert named == built


def test_artifacts_point_at_files_that_exist() -> None:
    for profile in PROFILES:
        for artifact in effective(profile)["build"]["artifacts"]:
            if "docker" in artifact:
                assert (ROOT / artifact["docker"]["dockerfile"]).is_file()
            else:
                words = shlex.split(artifact["custom"]["buildCommand"])
                script = next(w for w in words if w.endswith(".sh"))
                assert (ROOT / script).is_file(), script
                assert words[-1] in ("classic", "llm")


def script_commands() -> list[list[str]]:
    """The bentoml invocations in the custom build script, as argv (flags only)."""
    lines = (ROOT / "k8s/skaffold/bento-image.sh").read_text().splitlines()
    code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return [shlex.split(m) for m in re.findall(r"(?:^\s*|\$\()(bentoml \w+[^|)\n]*)", code, re.M)]


@pytest.mark.slow  # three bentoml processes
def test_the_build_script_calls_bentoml_commands_that_exist() -> None:
    bentoml = str(Path(sys.executable).parent / "bentoml")
    calls = script_commands()
    assert [call[1] for call in calls] == ["build", "containerize"]
    for call in calls:
        help_text = subprocess.run(
            [bentoml, call[1], "--help"], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        for flag in (word for word in call if word.startswith("--")):
            assert flag in help_text, f"bentoml {call[1]} has no {flag}"
    result = subprocess.run(["bash", "-n", str(ROOT / "k8s/skaffold/bento-image.sh")], check=False)
    assert result.returncode == 0  # the script parses


def helm_sets(release: dict[str, Any]) -> list[str]:
    """The --set flags skaffold passes, with made-up image names for the templates."""
    sets = []
    for key, value in release.get("setValueTemplates", {}).items():
        filled = TEMPLATE.sub(
            lambda m: "registry.local/" + m[2] if m[1] == "REPO" else "abc123", value
        )
        sets += ["--set", f"{key}={filled}"]
    for key, value in release.get("setValues", {}).items():
        sets += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return sets


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p or "default")
def test_the_charts_render_with_what_skaffold_sets(
    helm4: Path, tmp_path: Path, profile: str | None
) -> None:
    for release in effective(profile)["deploy"]["helm"]["releases"]:
        docs = render(
            helm4,
            ROOT / release["chartPath"],
            tmp_path=tmp_path,
            release=release["name"],
            namespace=release["namespace"],
            extra=tuple(helm_sets(release)),
        )
        for doc in docs:
            validate(doc, versions=("1.30.0",))
        images = [
            c["image"]
            for d in docs
            if d["kind"] == "Deployment"
            for c in d["spec"]["template"]["spec"]["containers"]
        ]
        assert all(image.startswith("registry.local/") for image in images), images
