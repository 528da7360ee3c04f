"""The dashboards: committed JSON is the generator's, variables and panels are there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitoring.dashboards import __main__ as cli
from monitoring.dashboards.generate import BUILDERS, JSON_DIR, render_all, stale_files
from monitoring.dashboards.panels import GENERATED_NOTE

DASHBOARDS = {uid: build() for uid, build in BUILDERS.items()}
PANELS_ASKED_FOR = {
    "canaria-rollout": ["Phase", "Canary weight (operator)", "Check values and limits"],
    "canaria-model-quality": [
        "Requests/s",
        "Error ratio",
        "Latency",
        "Shadow agreement",
        "Shadow difference distribution",
        "Prediction confidence",
        "Predictions by class",
    ],
    "canaria-drift": ["Drift share", "Drift score per column"],
    "canaria-llm": [
        "Time to first token",
        "Time per output token",
        "Tokens/s per request",
        "Tokens",
        "Cost per 1,000 tokens",
    ],
}


def test_committed_json_is_what_the_generator_writes() -> None:
    assert stale_files(JSON_DIR) == [], "stale: run `python -m monitoring.dashboards`"
    assert sorted(p.name for p in JSON_DIR.glob("*.json")) == sorted(render_all())


def test_generate_writes_to_a_given_directory_and_check_spots_a_change(tmp_path: Path) -> None:
    assert cli.main(["--out", str(tmp_path)]) == 0
    assert cli.main(["--out", str(tmp_path), "--check"]) == 0
    path = tmp_path / "canaria-llm.json"
    path.write_text(path.read_text().replace("Time to first token", "TTFT"))
    (tmp_path / "old.json").write_text("{}")
    assert stale_files(tmp_path) == ["canaria-llm.json", "old.json"]
    assert cli.main(["--out", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize("uid", DASHBOARDS)
def test_dashboard_has_the_asked_panels_and_says_it_is_generated(uid: str) -> None:
    dashboard = DASHBOARDS[uid]
    assert dashboard["uid"] == uid
    assert GENERATED_NOTE in dashboard["description"]
    titles = [panel["title"] for panel in dashboard["panels"]]
    for title in PANELS_ASKED_FOR[uid]:
        assert title in titles, f"{uid}: no panel {title!r}"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("uid", DASHBOARDS)
def test_every_query_uses_the_datasource_and_the_variables(uid: str) -> None:
    dashboard = DASHBOARDS[uid]
    names = [variable["name"] for variable in dashboard["templating"]["list"]]
    assert names[:3] == ["datasource", "namespace", "rollout"]
    assert uid == "canaria-rollout" or "model" in names
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert "$namespace" in target["expr"] or "$rollout" in target["expr"], target
            assert target["datasource"]["uid"] == "${datasource}"


def test_decisions_are_annotations_on_every_dashboard() -> None:
    for dashboard in DASHBOARDS.values():
        (annotation,) = dashboard["annotations"]["list"]
        assert "canaria_rollout_decisions_total" in annotation["expr"]
        assert annotation["titleFormat"] == "{{decision}}"


def test_json_is_deterministic() -> None:
    assert render_all() == render_all()
    for text in render_all().values():
        assert json.loads(text)["schemaVersion"] >= 39  # Grafana 11's dashboard schema
