"""Building bentos with ``canaria build`` once per session and model, and serving them."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from canaria.testing.running import REPO_ROOT, RunningProcess, free_port, running

_BUILT: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, str]] = {}


def canaria_build(target: str, *, env: dict[str, str]) -> dict[str, str]:
    """``canaria build <target> --json`` in a subprocess: {target: bento tag}.

    Cached per target and environment, so two test modules share one build.
    """
    key = (target, tuple(sorted(env.items())))
    if key not in _BUILT:
        command = [str(Path(sys.executable).parent / "canaria"), "build", target, "--json"]
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        _BUILT[key] = json.loads(completed.stdout.strip().splitlines()[-1])
    return _BUILT[key]


def build_all(*, classic_model_tag: str, llm_model_tag: str) -> dict[str, str]:
    """``canaria build all`` with the session's models: {"classic": tag, "llm": tag}.

    ``CANARIA_LLM_GPU`` is blanked, so the LLM bento's GPU request comes from
    ``canaria build`` itself, not from whoever runs the tests.
    """
    env = {
        "CANARIA_CLASSIC_MODEL_TAG": classic_model_tag,
        "CANARIA_LLM_MODEL": llm_model_tag,
        "CANARIA_LLM_GPU": "",
    }
    return canaria_build("all", env=env)


@contextlib.contextmanager
def serving_bento(
    bento_tag: str, *, workdir: Path, env: dict[str, str], timeout: float
) -> Iterator[RunningProcess]:
    """``bentoml serve BENTO_TAG`` on a free loopback port until ``/readyz`` answers.

    It runs in ``workdir``, outside the checkout, so only the bento's own source can be
    imported; stopped by PID on exit.
    """
    port = free_port()
    with running(
        ["bentoml", "serve", bento_tag, "--host", "127.0.0.1", "--port", str(port)],
        log_path=workdir / "serve.log",
        port=port,
        ready_path="/readyz",
        env=env,
        cwd=workdir,
        timeout=timeout,
    ) as process:
        yield process
