"""Each ``bentoml serve`` gets a private BENTOML_HOME over the shared store, so two
servers started together on one store both keep their Prometheus metrics."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from canaria.contracts.metrics import PREDICTIONS_TOTAL
from canaria.testing.bentoml_home import (
    is_bentoml_serve,
    private_home,
    serve_env,
    shared_home,
)
from canaria.testing.metrics import metric_samples, series_value
from canaria.testing.running import free_port, start_process, stop_process, wait_http
from tests.services.classic.cases import record


def test_only_bentoml_serve_gets_a_private_home() -> None:
    assert is_bentoml_serve(["/venv/bin/bentoml", "serve", "svc:Service"])
    assert not is_bentoml_serve(["bentoml", "models", "list"])
    assert not is_bentoml_serve(["canaria", "serve"])
    assert not is_bentoml_serve(["bentoml"])


def test_shared_home_is_the_given_one_or_bentomls_default(tmp_path: Path) -> None:
    assert shared_home({"BENTOML_HOME": str(tmp_path)}) == tmp_path
    assert shared_home({"BENTOML_HOME": "  "}) == Path.home() / "bentoml"
    assert shared_home({}) == Path.home() / "bentoml"


def test_a_private_home_links_the_shared_stores_and_keeps_its_own_metrics_dir(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    (shared / "models" / "churn").mkdir(parents=True)
    env = serve_env({"BENTOML_HOME": str(shared)}, log_path=tmp_path / "logs" / "stable.log")
    home = Path(env["BENTOML_HOME"])
    assert home == tmp_path / "logs" / ".bentoml-homes" / "stable"
    assert (home / "models").resolve() == (shared / "models").resolve()
    assert (home / "models" / "churn").is_dir()
    assert (home / "bentos").resolve() == (shared / "bentos").resolve()
    assert not (home / "prometheus_multiproc_dir").is_symlink()
    assert private_home(shared, home) == home  # again: nothing changes, nothing raises
    other = Path(
        serve_env({"BENTOML_HOME": str(shared)}, log_path=tmp_path / "canary.log")["BENTOML_HOME"]
    )
    assert other != home


def test_a_home_with_a_store_of_its_own_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="models: a store of its own"):
        private_home(tmp_path / "shared", home)


@pytest.mark.slow
def test_two_classic_servers_on_one_store_both_keep_their_metrics(
    tmp_path: Path, classic_model_tag: str
) -> None:
    """Started together (the second one's start-up used to empty the first one's metric
    files): each counts exactly its own predictions."""
    servers = []
    try:
        for name in ("first", "second"):
            port = free_port()
            args = ["bentoml", "serve", "services.classic.service:ClassicService"]
            servers.append(
                start_process(
                    [*args, "--port", str(port)],
                    log_path=tmp_path / f"{name}.log",
                    port=port,
                    env={"CANARIA_CLASSIC_MODEL_TAG": classic_model_tag},
                )
            )
        for server in servers:
            wait_http(server, "/readyz", timeout=180)
        with httpx.Client(timeout=30) as client:
            for server, count in zip(servers, (3, 5), strict=True):
                for _ in range(count):
                    response = client.post(f"{server.base_url}/predict", json=record())
                    assert response.status_code == 200, response.text
            for server, count in zip(servers, (3, 5), strict=True):
                text = client.get(f"{server.base_url}/metrics").text
                assert series_value(metric_samples(text), PREDICTIONS_TOTAL) == count
    finally:
        for server in servers:
            stop_process(server)
