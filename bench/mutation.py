"""Mutation testing of the pure core: ``make mutate`` (``python -m bench.mutation``).

Runs mutmut (configured in ``pyproject.toml`` ``[tool.mutmut]``: the analysis engine and
verdicts, the spec parser, the router's routing, comparison and rate limiting, the classic
input validation and log redaction, against their fast unit tests only) and writes
``bench/results/mutation.json``: the score (killed ÷ judged mutants; a mutant that timed
out counts as killed, as mutmut counts it; one that no selected test reaches counts as not
killed), the counts per status, and every surviving and untested mutant by name
(``mutmut show NAME`` prints its diff).

The document has the totals and, under ``modules``, the same figures per source module.
A scoped run merges into the existing file: each module it judged replaces that module's
entry, the others are kept as the earlier run left them (``runs`` says which run judged
which modules), and the totals are recomputed over all modules.

``--fill-from DIR``: run nothing; add to the existing file every module that the mutmut run
in DIR (another checkout, possibly still running) has judged completely, read from its
``mutants/**/*.meta`` files, leaving the modules the file already has as they are.

``--examples-scale S``: run the property tests with their example counts scaled by S (in
(0, 1]; ``CANARIA_EXAMPLES_SCALE``, tests/hypothesis_budget.py), recorded in the run's
entry under ``runs``. The spec parser is measured with 0.1: each of its mutants runs every
property test, about 14 s of tests at full counts.

``--max-children N``: mutmut's parallel workers (default 2). Arguments after ``--`` are
mutant name globs passed to ``mutmut run`` (e.g. ``'services.router.ratelimit*'``) to run
one module only. Not part of ``make test``: it takes long.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from mutmut.stats import status_by_exit_code

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT = REPO_ROOT / "bench" / "results" / "mutation.json"
MUTMUT = Path(sys.executable).parent / "mutmut"
KILLED = ("killed", "timeout")
NOT_KILLED = ("survived", "no tests")
JUDGED = (*KILLED, *NOT_KILLED)


def parse_results(text: str) -> dict[str, str]:
    """``mutmut results --all true`` lines (``    name: status``) as {name: status} (pure)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            found[name] = status.strip()
    return found


def statuses_from_meta(texts: list[str]) -> dict[str, str]:
    """{mutant: status} from the text of mutmut's per-file ``.meta`` JSON files (pure)."""
    found: dict[str, str] = {}
    for text in texts:
        for name, code in json.loads(text).get("exit_code_by_key", {}).items():
            found[name] = status_by_exit_code[code]
    return found


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with only the modules whose every mutant was judged (pure)."""
    modules = {
        module: entry
        for module, entry in document["modules"].items()
        if not set(entry["counts"]) - set(JUDGED)
    }
    runs = [
        {**run, "modules": [m for m in run["modules"] if m in modules]} for run in document["runs"]
    ]
    return {**document, "modules": modules, "runs": runs}


def module_of(name: str) -> str:
    """The source module of a mutant name (pure).

    ``pkg.mod.x_func__mutmut_3`` and ``pkg.mod.xǁClassǁmethod__mutmut_3`` are in ``pkg.mod``.
    """
    return name.rpartition("__mutmut_")[0].rpartition(".")[0]


def _figures(statuses: dict[str, str]) -> dict[str, Any]:
    """Score, counts, survivors and untested mutants of some mutants' statuses (pure)."""
    counts = Counter(statuses.values())
    judged = sum(counts[s] for s in JUDGED)
    killed = sum(counts[s] for s in KILLED)
    return {
        "score": round(killed / judged, 4) if judged else None,
        "killed": killed,
        "judged": judged,
        "counts": dict(sorted(counts.items())),
        "survivors": sorted(n for n, s in statuses.items() if s == "survived"),
        "untested": sorted(n for n, s in statuses.items() if s == "no tests"),
    }


def summarise(
    statuses: dict[str, str], *, only: list[str], seconds: float, examples_scale: float = 1.0
) -> dict[str, Any]:
    """The JSON document of one run: score, counts, survivors, per module (pure).

    Modules none of whose mutants this run judged (outside its scope) are left out.
    ``examples_scale`` (the property tests' example counts were scaled by it) is recorded
    in the run's entry under ``runs``.
    """
    by_module: dict[str, dict[str, str]] = {}
    for name, status in statuses.items():
        by_module.setdefault(module_of(name), {})[name] = status
    modules = {
        module: _figures(found)
        for module, found in sorted(by_module.items())
        if any(status in JUDGED for status in found.values())
    }
    for module, entry in modules.items():
        if "not checked" in entry["counts"]:  # a partial run: keep what it judged, by name
            found = by_module[module]
            entry["rejudged"] = {n: s for n, s in sorted(found.items()) if s in JUDGED}
    scope = only or ["all of [tool.mutmut] only_mutate"]
    return {
        "tool": "mutmut",
        "scope": scope,
        **_figures(statuses),
        "seconds": round(seconds, 1),
        "modules": modules,
        "runs": [
            {
                "scope": scope,
                "seconds": round(seconds, 1),
                "examples_scale": examples_scale,
                "modules": sorted(modules),
            }
        ],
    }


def _rejudge(before: dict[str, Any], rejudged: dict[str, str]) -> dict[str, Any]:
    """A module's entry with some of its mutants judged again (``rejudged``) (pure).

    A mutant listed as surviving or untested before leaves that count; any other is taken
    to have been killed before; each then counts under its new status.
    """
    counts: Counter[str] = Counter(before["counts"])
    survivors, untested = set(before["survivors"]), set(before["untested"])
    for name, status in rejudged.items():
        old = "survived" if name in survivors else "no tests" if name in untested else "killed"
        counts[old] -= 1
        counts[status] += 1
        survivors.discard(name)
        untested.discard(name)
        if status == "survived":
            survivors.add(name)
        elif status == "no tests":
            untested.add(name)
    judged = sum(counts[s] for s in JUDGED)
    killed = sum(counts[s] for s in KILLED)
    return {
        "score": round(killed / judged, 4) if judged else None,
        "killed": killed,
        "judged": judged,
        "counts": dict(sorted((k, v) for k, v in counts.items() if v)),
        "survivors": sorted(survivors),
        "untested": sorted(untested),
    }


def merge(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``current`` (one run's document) merged into ``previous`` per module (pure).

    Each module ``current`` judged replaces ``previous``'s entry, or, when ``current`` judged
    only some of its mutants (a run of named mutants, e.g. the survivors), updates those in
    it; the other modules are kept. The
    totals (score, killed, judged, counts, survivors, untested) are recomputed over all
    modules; ``runs`` keeps the earlier runs that still supply a module, then ``current``'s.
    A ``previous`` without ``modules`` (an older format) contributes nothing.
    """
    modules = {**previous.get("modules", {})}
    for module, entry in current["modules"].items():
        before = modules.get(module)
        rejudged = entry.get("rejudged")
        updated = _rejudge(before, rejudged) if before and rejudged else entry
        modules[module] = {key: value for key, value in updated.items() if key != "rejudged"}
    counts: Counter[str] = Counter()
    for entry in modules.values():
        counts.update(entry["counts"])
    judged = sum(counts[s] for s in JUDGED)
    killed = sum(counts[s] for s in KILLED)
    runs = []
    for run in previous.get("runs", []):
        kept = [
            module
            for module in run["modules"]
            if module not in current["modules"] or "rejudged" in current["modules"][module]
        ]
        if kept:
            runs.append({**run, "modules": kept})
    return {
        **current,
        "score": round(killed / judged, 4) if judged else None,
        "killed": killed,
        "judged": judged,
        "counts": dict(sorted(counts.items())),
        "survivors": sorted(n for entry in modules.values() for n in entry["survivors"]),
        "untested": sorted(n for entry in modules.values() for n in entry["untested"]),
        "modules": dict(sorted(modules.items())),
        "runs": [*runs, *current["runs"]],
    }


def fill_from(checkout: Path) -> int:
    """``--fill-from``: the modules ``checkout``'s run judged completely, added to OUTPUT."""
    texts = [path.read_text() for path in sorted((checkout / "mutants").glob("**/*.meta"))]
    base = complete(summarise(statuses_from_meta(texts), only=[f"run in {checkout}"], seconds=0))
    existing = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else None
    document = merge(base, existing) if existing and "modules" in existing else base
    OUTPUT.write_text(json.dumps(document, indent=2) + "\n")
    print(f"{sorted(base['modules'])} from {checkout}; score {document['score']}: {OUTPUT}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--examples-scale",
        type=float,
        default=1.0,
        help="scale the property tests' example counts by this, in (0, 1] (default 1)",
    )
    parser.add_argument("only", nargs="*", help="mutant name globs (one module: 'pkg.mod*')")
    parser.add_argument("--fill-from", type=Path, help="a checkout whose mutmut run fills gaps")
    args = parser.parse_args(argv)
    if args.fill_from:
        return fill_from(args.fill_from)
    if not 0 < args.examples_scale <= 1:
        parser.error(f"--examples-scale: must be in (0, 1], got {args.examples_scale}")
    env = {**os.environ, "CANARIA_EXAMPLES_SCALE": str(args.examples_scale)}
    shutil.rmtree(REPO_ROOT / "mutants", ignore_errors=True)  # no stale mutants or results
    started = time.monotonic()
    run = [str(MUTMUT), "run", "--max-children", str(args.max_children), *args.only]
    code = subprocess.run(run, cwd=REPO_ROOT, env=env, check=False).returncode
    seconds = time.monotonic() - started
    listed = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    statuses = parse_results(listed.stdout)
    document = summarise(
        statuses, only=args.only, seconds=seconds, examples_scale=args.examples_scale
    )
    if args.only and OUTPUT.exists():
        document = merge(json.loads(OUTPUT.read_text()), document)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(document, indent=2) + "\n")
    shown = ("score", "killed", "judged", "counts", "scope", "seconds")
    print(json.dumps({key: document[key] for key in shown}))
    print(f"{len(document['survivors'])} survived, {len(document['untested'])} untested: {OUTPUT}")
    return code


if __name__ == "__main__":
    sys.exit(main())
