"""bench/mutation.py: reading mutmut's results and the JSON it writes (pure parts)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

from bench.mutation import complete, merge, module_of, parse_results, statuses_from_meta, summarise

RESULTS = """\
    services.router.ratelimit.x_take__mutmut_1: killed
    services.router.ratelimit.x_take__mutmut_2: survived
    services.router.ratelimit.x_take__mutmut_3: timeout
    services.router.ratelimit.x_take__mutmut_4: no tests
    services.router.ratelimit.x_take__mutmut_5: killed
"""


def test_results_are_read_by_name() -> None:
    statuses = parse_results(RESULTS)
    assert statuses["services.router.ratelimit.x_take__mutmut_2"] == "survived"
    assert statuses["services.router.ratelimit.x_take__mutmut_4"] == "no tests"
    assert len(statuses) == 5


def test_the_score_counts_timeouts_as_killed_and_untested_mutants_as_not_killed() -> None:
    document = summarise(parse_results(RESULTS), only=["x*"], seconds=1.25)
    # killed 2 + timeout 1 = 3 of 5 judged (survived 1 and "no tests" 1 are not killed).
    assert (document["killed"], document["judged"], document["score"]) == (3, 5, 0.6)
    assert document["survivors"] == ["services.router.ratelimit.x_take__mutmut_2"]
    assert document["untested"] == ["services.router.ratelimit.x_take__mutmut_4"]
    assert document["counts"] == {"killed": 2, "no tests": 1, "survived": 1, "timeout": 1}
    assert document["scope"] == ["x*"]
    assert summarise({}, only=[], seconds=0)["score"] is None


def test_a_mutant_belongs_to_the_module_before_its_function() -> None:
    assert module_of("services.router.ratelimit.x_take__mutmut_12") == "services.router.ratelimit"
    assert module_of("monitoring.api.spec.retrain.x__parse_job__mutmut_3") == (
        "monitoring.api.spec.retrain"
    )
    assert module_of("services.router.compare.xǁTextComparatorǁclose__mutmut_1") == (
        "services.router.compare"
    )


COMPARE = "services.router.compare.x_token_overlap__mutmut_"
TAKE = "services.router.ratelimit.x_take__mutmut_"


def test_a_run_is_summarised_per_module_leaving_out_modules_it_did_not_judge() -> None:
    statuses = {
        **parse_results(RESULTS),
        f"{COMPARE}1": "not checked",
        "canaria.contracts.logs.x_digest__mutmut_1": "not checked",
    }
    document = summarise(
        statuses, only=["services.router.ratelimit*"], seconds=2.0, examples_scale=0.1
    )
    assert list(document["modules"]) == ["services.router.ratelimit"]
    assert document["modules"]["services.router.ratelimit"] == {
        "score": 0.6,
        "killed": 3,
        "judged": 5,
        "counts": {"killed": 2, "no tests": 1, "survived": 1, "timeout": 1},
        "survivors": [f"{TAKE}2"],
        "untested": [f"{TAKE}4"],
    }
    assert document["runs"] == [
        {
            "scope": ["services.router.ratelimit*"],
            "seconds": 2.0,
            "examples_scale": 0.1,
            "modules": ["services.router.ratelimit"],
        }
    ]


def test_a_scoped_run_replaces_only_the_modules_it_judged() -> None:
    full = summarise(
        {
            f"{TAKE}1": "survived",
            f"{TAKE}2": "survived",
            f"{COMPARE}1": "killed",
            f"{COMPARE}2": "no tests",
        },
        only=[],
        seconds=100.0,
    )
    assert (full["killed"], full["judged"]) == (1, 4)
    rerun = summarise(
        {f"{TAKE}1": "killed", f"{TAKE}2": "timeout", f"{COMPARE}1": "not checked"},
        only=["services.router.ratelimit*"],
        seconds=5.0,
    )

    merged = merge(full, rerun)

    # ratelimit: 2 of 2 now (rerun); compare: 1 of 2 as the full run left it.
    assert (merged["killed"], merged["judged"], merged["score"]) == (3, 4, 0.75)
    assert merged["counts"] == {"killed": 2, "no tests": 1, "timeout": 1}
    assert merged["modules"]["services.router.ratelimit"]["score"] == 1.0
    assert (
        merged["modules"]["services.router.compare"] == full["modules"]["services.router.compare"]
    )
    assert merged["survivors"] == [] and merged["untested"] == [f"{COMPARE}2"]
    assert merged["scope"] == ["services.router.ratelimit*"] and merged["seconds"] == 5.0
    assert merged["runs"] == [
        {
            "scope": ["all of [tool.mutmut] only_mutate"],
            "seconds": 100.0,
            "examples_scale": 1.0,
            "modules": ["services.router.compare"],
        },
        {
            "scope": ["services.router.ratelimit*"],
            "seconds": 5.0,
            "examples_scale": 1.0,
            "modules": ["services.router.ratelimit"],
        },
    ]
    # A second rerun of the same module drops the first rerun from the runs.
    again = merge(merged, rerun)
    assert [run["seconds"] for run in again["runs"]] == [100.0, 5.0]
    assert again["modules"] == merged["modules"]


def test_an_old_document_without_modules_contributes_nothing() -> None:
    rerun = summarise({f"{TAKE}1": "killed"}, only=["x*"], seconds=1.0)
    merged = merge({"score": 0.5, "killed": 1, "judged": 2}, rerun)
    assert (merged["killed"], merged["judged"], list(merged["modules"])) == (
        1,
        1,
        ["services.router.ratelimit"],
    )


def test_statuses_are_read_from_meta_files_by_exit_code() -> None:
    # mutmut's exit codes: 1 killed, 0 survived, 33 no tests, 36 timeout, null not run yet.
    meta = {"exit_code_by_key": {f"{TAKE}1": 1, f"{TAKE}2": 0, f"{TAKE}3": 36, f"{TAKE}4": None}}
    other = {"exit_code_by_key": {f"{COMPARE}1": 33}}
    assert statuses_from_meta([json.dumps(meta), json.dumps(other), "{}"]) == {
        f"{TAKE}1": "killed",
        f"{TAKE}2": "survived",
        f"{TAKE}3": "timeout",
        f"{TAKE}4": "not checked",
        f"{COMPARE}1": "no tests",
    }


def test_only_completely_judged_modules_fill_gaps_and_never_replace_a_module() -> None:
    running = summarise(
        {f"{TAKE}1": "killed", f"{TAKE}2": "not checked", f"{COMPARE}1": "survived"},
        only=["run in /elsewhere"],
        seconds=0,
    )
    base = complete(running)
    assert list(base["modules"]) == ["services.router.compare"]
    assert base["runs"][0]["modules"] == ["services.router.compare"]
    mine = summarise({f"{COMPARE}1": "killed", f"{COMPARE}2": "killed"}, only=["c*"], seconds=3.0)
    logs = "canaria.contracts.logs.x_digest__mutmut_"
    other = complete(summarise({f"{logs}1": "survived"}, only=["all"], seconds=9.0))
    filled = merge(other, mine)
    assert list(filled["modules"]) == ["canaria.contracts.logs", "services.router.compare"]
    assert filled["modules"]["services.router.compare"]["score"] == 1.0  # mine stays
    assert (filled["killed"], filled["judged"]) == (2, 3)
    assert merge(base, mine)["modules"] == mine["modules"]


def test_a_run_of_named_mutants_updates_only_those_in_the_module() -> None:
    full = summarise(
        {
            f"{TAKE}1": "killed",
            f"{TAKE}2": "survived",
            f"{TAKE}3": "survived",
            f"{TAKE}4": "no tests",
        },
        only=[],
        seconds=50.0,
    )
    again = summarise(
        {
            f"{TAKE}1": "not checked",
            f"{TAKE}2": "killed",
            f"{TAKE}3": "survived",
            f"{TAKE}4": "timeout",
        },
        only=[f"{TAKE}2", f"{TAKE}3", f"{TAKE}4"],
        seconds=4.0,
    )
    assert again["modules"]["services.router.ratelimit"]["rejudged"] == {
        f"{TAKE}2": "killed",
        f"{TAKE}3": "survived",
        f"{TAKE}4": "timeout",
    }
    # Before: 1 killed of 4. Now 2 and 4 are killed too (4 by a timeout); 3 still survives.
    merged = merge(full, again)
    assert [run["modules"] for run in merged["runs"]] == [["services.router.ratelimit"]] * 2
    assert merged["modules"]["services.router.ratelimit"] == {
        "score": 0.75,
        "killed": 3,
        "judged": 4,
        "counts": {"killed": 2, "survived": 1, "timeout": 1},
        "survivors": [f"{TAKE}3"],
        "untested": [],
    }


def _mutated_modules() -> list[str]:
    """The modules of ``[tool.mutmut] only_mutate`` (``monitoring.analysis.engine``, ...)."""
    root = Path(__file__).resolve().parents[2]
    only = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    return sorted(
        str(path.relative_to(root).with_suffix("")).replace("/", ".")
        for pattern in only
        for path in root.glob(pattern)
        if path.suffix == ".py" and path.name != "__init__.py"
    )


def test_make_mutate_judges_every_mutated_module_exactly_once() -> None:
    """The Makefile's two passes (MUTATE_FULL, then the parser at a tenth of the examples)
    cover each module of ``[tool.mutmut] only_mutate`` once: none left out, none twice."""
    root = Path(__file__).resolve().parents[2]
    makefile = (root / "Makefile").read_text()
    block = makefile.split("MUTATE_FULL = ", 1)[1].split("\nmutate:", 1)[0]
    full = re.findall(r"'([^']+)'", block)
    scaled = makefile.split("--examples-scale 0.1 ", 1)[1].split("\n\n", 1)[0]
    parser = re.findall(r"'([^']+)'", scaled)
    assert parser == ["monitoring.api.spec.parse*", "monitoring.api.spec.known_fields*"]
    modules = _mutated_modules()
    assert "monitoring.analysis.engine" in modules and len(modules) > 20
    for module in modules:
        passes = [g for g in (*full, *parser) if fnmatch.fnmatch(f"{module}.x_f__mutmut_1", g)]
        assert len(passes) == 1, (module, passes)


def _explained(markdown: str) -> set[str]:
    """Full mutant names of the survivors md's table rows: ``## module`` sections whose rows
    start with `` `x_func__mutmut_3`, `_7` `` (a bare `` `_7` `` is the same function)."""
    names: set[str] = set()
    module = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            module = line[3:].split(" ", 1)[0]
        elif line.startswith("| `") and module:
            function = ""
            for cell in re.findall(r"`([^`]+)`", line.split(" | ", 1)[0]):
                if "__mutmut_" in cell:
                    function, _, number = cell.rpartition("__mutmut_")
                else:
                    number = cell.lstrip("_")
                names.add(f"{module}.{function}__mutmut_{number}")
    return names


def test_every_surviving_mutant_is_explained_in_the_survivors_md() -> None:
    """After ``make mutate``, each survivor in mutation.json is killed by a new test or has a
    row in mutation-survivors.md; a row for a mutant that no longer survives is stale."""
    results = Path(__file__).resolve().parents[2] / "bench" / "results"
    survivors = set(json.loads((results / "mutation.json").read_text())["survivors"])
    explained = _explained((results / "mutation-survivors.md").read_text())
    assert survivors - explained == set(), "survivors with no row"
    assert explained - survivors == set(), "rows for mutants that do not survive"


def test_every_mutated_module_is_measured_and_meets_the_goal() -> None:
    """mutation.json has an entry for each module of ``only_mutate`` (a new module is
    measured before it lands), each at the goal: >= 90 % of its mutants killed."""
    results = Path(__file__).resolve().parents[2] / "bench" / "results"
    modules = json.loads((results / "mutation.json").read_text())["modules"]
    assert sorted(modules) == _mutated_modules()
    below = {name: entry["score"] for name, entry in modules.items() if entry["score"] < 0.9}
    assert below == {}
