"""Run the benchmarks: ``python -m bench`` runs every ``bench/bench_*.py``; ``python -m bench
classic`` runs ``bench/bench_classic.py`` only. Exits non-zero if any benchmark failed.

Each benchmark runs in a process of its own: BentoML fixes its model store the first time a
process uses it, and each benchmark trains into a private temporary store.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent


def available() -> list[str]:
    """The benchmark names, from the ``bench_<name>.py`` files (sorted)."""
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [name for name in names if name not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available())}")
        return 2
    failed = []
    for name in names:
        print(f"== bench {name}", flush=True)
        started = time.monotonic()
        runner = f"import sys, bench.bench_{name} as bench; sys.exit(bench.main())"
        code = subprocess.run([sys.executable, "-c", runner], cwd=REPO_ROOT, check=False).returncode
        print(f"== bench {name}: exit {code} in {time.monotonic() - started:.0f}s", flush=True)
        if code:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
