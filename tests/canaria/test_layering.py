"""Clients read a ModelRollout status through ``RolloutStatus``, never as raw keys.

The kubectl plugin, the CLI, the demo, the test kit and the bench parse a status once
(``monitoring.api.observe.read_status``) and compare phases with ``Phase`` members; this
guard fails naming the file and line of any ``status["phase"]``/``.get("canaryWeight")``
style access that comes back in them.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS = (
    "canaria/cli",
    "canaria/demo",
    "canaria/testing",
    "monitoring/plugin",
    "monitoring/kubectl_plugin.py",
    "bench",
)
# The camelCase keys of RolloutStatus.to_dict that have a typed field. (``history`` and
# ``workload`` also name other documents' keys, e.g. status.retrain.history, so they are
# left out; reading them raw is caught through the other keys in practice.)
STATUS_KEYS = frozenset(
    {
        "phase",
        "canaryWeight",
        "currentStep",
        "failedChecks",
        "inconclusiveCount",
        "stableModel",
        "canaryModel",
        "pauseReason",
        "nextAnalysisTime",
        "lastAnalysis",
        "observedGeneration",
    }
)


def raw_status_reads(source: str) -> list[tuple[int, str]]:
    """``(line, key)`` for every ``x["key"]`` and ``x.get("key", ...)`` of a status key."""
    found = []
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        if isinstance(key, str) and key in STATUS_KEYS:
            found.append((node.lineno, key))
    return found


def client_files() -> list[Path]:
    files: list[Path] = []
    for name in CLIENTS:
        path = REPO_ROOT / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_the_guard_sees_raw_reads() -> None:
    source = 'a = obj["status"]["phase"]\nb = s.get(\n    "canaryWeight", 0)\nc = {"phase": 1}\n'
    assert raw_status_reads(source) == [(1, "phase"), (2, "canaryWeight")]


def test_clients_read_the_status_through_rollout_status() -> None:
    files = client_files()
    assert len(files) > 20, files  # the clients are where this test thinks they are
    problems = [
        f"{path.relative_to(REPO_ROOT)}:{line}: raw status key {key!r}; read the status with "
        "monitoring.api.observe.read_status and use RolloutStatus fields / Phase members"
        for path in files
        for line, key in raw_status_reads(path.read_text())
    ]
    assert not problems, "\n".join(problems)
