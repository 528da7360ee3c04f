"""Drift detection: power and false alarms, and the cost of a drift job against Evidently.

Power and false alarms (``power``): 40 seeded runs on a 20-feature frame of independent
standard normals (the churn generator has 11 features, so a seeded 20-column frame stands
in for "20 features"); reference and current 1000 rows each. Shifted runs move 5 of the 20
features by 0.5 standard deviations; unshifted runs draw the current side from the same
distribution. A run "detects drift" when canaria's verdict is ``drift`` (share of drifted
columns >= 0.2, K-S at p < 0.05 per column). Goals: >= 95 % detected, <= 5 % false alarms.

Cost (``scale``): one drift job on N x 20 frames (reference and current both N rows, N =
100k and 1M) - canaria's ``analyse`` (sampling each side to ``max_rows`` = 20 000 rows,
seeded, then Evidently's stattests; data quality over every row) against a plain Evidently
``Report([DataDriftPreset()])`` on the full frames, each in a fresh process, in the same
run. Time is wall-clock and CPU seconds of the job alone (frames are built first); peak
memory is the growth of the process's maximum RSS during the job. Goal: canaria / plain
<= 1.0 for time and memory. The sampling is what makes canaria cheaper: the power runs
above use 1000-row windows, well under the cap, so the cap does not cost detection.

Sketches (``sketch``, see monitoring/drift/sketches.py): on 20 seeded runs of the frames
above plus churn customers (numeric and categorical columns, covariate shift 0.3 and none),
the share of per-column verdicts from the DataSketches path that equal Evidently's exact
verdicts (goal >= 95 %), and the serialized bytes of one column's sketch at 1k, 100k and
1M rows (constant in the rows, up to the KLL sketch's logarithmic levels).

Run: ``python -m bench drift`` (or ``make bench``); writes bench/results/drift.json.
``python -m bench.bench_drift --sketch-only`` re-measures only the sketch section.
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "bench" / "results" / "drift.json"
FEATURES = 20
SHIFTED_FEATURES = 5
SHIFT_SD = 0.5
RUNS = 40
WINDOW_ROWS = 1000
SCALE_ROWS = (100_000, 1_000_000)
GOAL_POWER = 0.95
GOAL_FALSE_ALARMS = 0.05
GOAL_RATIO = 1.0
GOAL_AGREEMENT = 0.95


def frame(n_rows: int, *, seed: int, shifted: int = 0, shift_sd: float = SHIFT_SD) -> pd.DataFrame:
    """``n_rows`` x 20 standard normals; the first ``shifted`` columns moved by ``shift_sd``."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_rows, FEATURES))
    values[:, :shifted] += shift_sd
    return pd.DataFrame(values, columns=[f"f{index:02d}" for index in range(FEATURES)])


def power(*, runs: int = RUNS, rows: int = WINDOW_ROWS, seed: int = 0) -> dict[str, Any]:
    """Detections among ``runs`` shifted and ``runs`` unshifted seeded comparisons."""
    from monitoring.drift.config import parse_config
    from monitoring.drift.engine import analyse

    config = parse_config({"min_rows": min(100, rows)})
    detected = false_alarms = 0
    shares: dict[str, list[float]] = {"shifted": [], "unshifted": []}
    for run in range(runs):
        base = seed + 1000 * run
        reference = frame(rows, seed=base)
        for kind, current in (
            ("shifted", frame(rows, seed=base + 1, shifted=SHIFTED_FEATURES)),
            ("unshifted", frame(rows, seed=base + 2)),
        ):
            summary = analyse(reference, current, config=config, report=False).summary
            shares[kind].append(float(summary.drift_share or 0.0))
            if summary.drifted:
                detected += kind == "shifted"
                false_alarms += kind == "unshifted"
    return {
        "runs": runs,
        "rows_per_side": rows,
        "features": FEATURES,
        "shifted_features": SHIFTED_FEATURES,
        "shift_sd": SHIFT_SD,
        "detected": detected,
        "detection_rate": detected / runs,
        "false_alarms": false_alarms,
        "false_alarm_rate": false_alarms / runs,
        "mean_share": {kind: float(np.mean(values)) for kind, values in shares.items()},
        "drift_share_threshold": config.drift_share,
        "tests": {"numeric": config.numeric.method, "threshold": config.numeric.threshold},
    }


def sketch_agreement(*, runs: int = 20, rows: int = WINDOW_ROWS, seed: int = 0) -> dict[str, Any]:
    """How often the sketch path's per-column verdict equals Evidently's exact one.

    Same frames as ``power`` (shifted and unshifted) plus churn customers (numeric and
    categorical columns, covariate shift 0.3 and none), each side sketched whole.
    """
    from monitoring.drift.config import parse_config
    from monitoring.drift.engine import run_stattests
    from monitoring.drift.quality import PlannedColumn
    from monitoring.drift.sketches import ColumnSketches, sketch_verdicts
    from training import churn_data

    config = parse_config(None)
    agree = total = 0
    for run in range(runs):
        base = seed + 1000 * run
        pairs = [
            (frame(rows, seed=base), frame(rows, seed=base + 1, shifted=SHIFTED_FEATURES)),
            (frame(rows, seed=base), frame(rows, seed=base + 2)),
            *[
                (
                    churn_data.generate(n_rows=rows, seed=base + 3),
                    churn_data.generate(
                        n_rows=rows, seed=base + 4, scenario=scenario, strength=strength
                    ),
                )
                for scenario, strength in (("covariate-shift", 0.3), (None, 0.0))
            ],
        ]
        for reference, current in pairs:
            numeric = [name for name in reference.columns if name.startswith("f")] or list(
                churn_data.NUMERIC_FEATURES
            )
            categorical = (
                [] if numeric[0].startswith("f") else list(churn_data.CATEGORICAL_FEATURES)
            )
            columns = [PlannedColumn(n, False, "feature") for n in numeric] + [
                PlannedColumn(n, True, "feature") for n in categorical
            ]
            exact = {
                r.column: r.drifted for r in run_stattests(reference, current, columns, config)
            }
            sketched = []
            for side in (reference, current):
                sketches = ColumnSketches.empty(numeric, categorical)
                sketches.update(side)
                sketched.append(sketches)
            approx = sketch_verdicts(sketched[0], sketched[1])
            agree += sum(exact[name] == approx[name] for name in exact)
            total += len(exact)
    return {"columns_compared": total, "agreeing": agree, "agreement": agree / total}


def sketch_memory(rows: tuple[int, ...] = (1_000, 100_000, 1_000_000)) -> list[dict[str, Any]]:
    """Serialized bytes of one numeric and one categorical column's sketch per row count."""
    from monitoring.drift.sketches import ColumnSketches

    table = []
    rng = np.random.default_rng(0)
    for n_rows in rows:
        sketches = ColumnSketches.empty(["x"], ["c"])
        sketches.update(
            pd.DataFrame(
                {"x": rng.standard_normal(n_rows), "c": rng.choice(list("abcdefgh"), n_rows)}
            )
        )
        sizes = sketches.serialize()
        table.append({"rows": n_rows, "numeric_bytes": len(sizes["x"]),
                      "categorical_bytes": len(sizes["c"])})  # fmt: skip
    return table


def measure_job(side: str, n_rows: int) -> dict[str, Any]:
    """Run one drift job in this process and measure it (call in a fresh process)."""
    reference = frame(n_rows, seed=1)
    current = frame(n_rows, seed=2, shifted=SHIFTED_FEATURES)
    job = _canaria_job if side == "canaria" else _plain_job
    job(reference.head(2000), current.head(2000))  # warm imports outside the measurement
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    drifted = job(reference, current)
    wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "side": side,
        "rows": n_rows,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_growth_mb": (rss_after - rss_before) / 1024,
        "peak_rss_mb": rss_after / 1024,
        "drifted_columns": drifted,
    }


def _canaria_job(reference: pd.DataFrame, current: pd.DataFrame) -> int:
    from monitoring.drift.config import parse_config
    from monitoring.drift.engine import analyse

    summary = analyse(reference, current, config=parse_config(None), report=False).summary
    return len(summary.drifted_columns)


def _plain_job(reference: pd.DataFrame, current: pd.DataFrame) -> int:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=list(reference.columns))
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    drifted = [
        metric["value"]
        for metric in snapshot.dict()["metrics"]
        if metric["metric_name"].startswith("DriftedColumnsCount")
    ]
    return int(drifted[0]["count"]) if drifted else -1


def measure_in_fresh_process(side: str, n_rows: int) -> dict[str, Any]:
    code = (
        f"import json, bench.bench_drift as b; print(json.dumps(b.measure_job({side!r}, {n_rows})))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def scale(rows: tuple[int, ...] = SCALE_ROWS) -> list[dict[str, Any]]:
    """canaria and plain Evidently on each size, alternating, each in a fresh process."""
    table = []
    for n_rows in rows:
        ours = measure_in_fresh_process("canaria", n_rows)
        plain = measure_in_fresh_process("evidently", n_rows)
        table.append(
            {
                "rows": n_rows,
                "canaria": ours,
                "evidently_data_drift_preset": plain,
                "wall_ratio": ours["wall_s"] / plain["wall_s"],
                "cpu_ratio": ours["cpu_s"] / plain["cpu_s"],
                "peak_memory_ratio": _ratio(
                    ours["peak_rss_growth_mb"], plain["peak_rss_growth_mb"]
                ),
            }
        )
        print(json.dumps(table[-1]), flush=True)
    return table


def _ratio(ours: float, plain: float) -> float | None:
    return ours / plain if plain > 0 else None


def sketches() -> dict[str, Any]:
    """The sketch path: verdict agreement with Evidently, and bytes per column."""
    agreement = sketch_agreement()
    return {**agreement, "goal_agreement": GOAL_AGREEMENT, "memory": sketch_memory()}


def main(argv: list[str] | None = None) -> int:
    """Everything; ``--sketch-only`` re-measures the sketch section of an existing file."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--sketch-only"]:
        results = json.loads(RESULTS_PATH.read_text())
        results["sketch"] = sketches()
        results["goals"]["sketch agreement >= 0.95"] = (
            results["sketch"]["agreement"] >= GOAL_AGREEMENT
        )
        RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results["sketch"]))
        return 0
    started = time.time()
    sketch_result = sketches()
    power_result = power()
    print(json.dumps(power_result), flush=True)
    scale_result = scale()
    goals = {
        "detection_rate >= 0.95": power_result["detection_rate"] >= GOAL_POWER,
        "false_alarm_rate <= 0.05": power_result["false_alarm_rate"] <= GOAL_FALSE_ALARMS,
        "wall_ratio <= 1.0": all(row["wall_ratio"] <= GOAL_RATIO for row in scale_result),
        "peak_memory_ratio <= 1.0": all(
            (row["peak_memory_ratio"] or 0.0) <= GOAL_RATIO for row in scale_result
        ),
        "sketch agreement >= 0.95": sketch_result["agreement"] >= GOAL_AGREEMENT,
    }
    results = {
        "benchmark": "drift",
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "power": power_result,
        "scale": scale_result,
        "sketch": sketch_result,
        "goals": goals,
        "seconds": time.time() - started,
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(goals))
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
