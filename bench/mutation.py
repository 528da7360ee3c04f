"""Mutation testing of the pure core: ``make mutate`` (``python -m bench.mutation``).

Runs mutmut (configured in ``pyproject.toml`` ``[tool.mutmut]``: the analysis engine and
verdicts, the spec parser, the router's routing, comparison and rate limiting, the classic
input validation and log redaction, against their fast unit tests only) and writes
``bench/results/mutation.json``: the score (killed ÷ judged mutants; a mutant that timed
out counts as killed, as mutmut counts it; one that no selected test reaches counts as not
killed), the counts per status, and every surviving and untested mutant by name
(``mutmut show NAME`` prints its diff).

``--max-children N``: mutmut's parallel workers (default 2). Arguments after ``--`` are
mutant name globs passed to ``mutmut run`` (e.g. ``'services.router.ratelimit*'``) to run
one module only. Not part of ``make test``: it takes long.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

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


def summarise(statuses: dict[str, str], *, only: list[str], seconds: float) -> dict[str, Any]:
    """The JSON document: score, counts, survivors (pure)."""
    counts = Counter(statuses.values())
    judged = sum(counts[s] for s in JUDGED)
    killed = sum(counts[s] for s in KILLED)
    return {
        "tool": "mutmut",
        "scope": only or ["all of [tool.mutmut] only_mutate"],
        "score": round(killed / judged, 4) if judged else None,
        "killed": killed,
        "judged": judged,
        "counts": dict(sorted(counts.items())),
        "survivors": sorted(n for n, s in statuses.items() if s == "survived"),
        "untested": sorted(n for n, s in statuses.items() if s == "no tests"),
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("only", nargs="*", help="mutant name globs (one module: 'pkg.mod*')")
    args = parser.parse_args(argv)
    shutil.rmtree(REPO_ROOT / "mutants", ignore_errors=True)  # no stale mutants or results
    started = time.monotonic()
    run = [str(MUTMUT), "run", "--max-children", str(args.max_children), *args.only]
    code = subprocess.run(run, cwd=REPO_ROOT, check=False).returncode
    seconds = time.monotonic() - started
    listed = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    statuses = parse_results(listed.stdout)
    document = summarise(statuses, only=args.only, seconds=seconds)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps({k: v for k, v in document.items() if k not in ("survivors", "untested")}))
    print(f"{len(document['survivors'])} survived, {len(document['untested'])} untested: {OUTPUT}")
    return code


if __name__ == "__main__":
    sys.exit(main())
