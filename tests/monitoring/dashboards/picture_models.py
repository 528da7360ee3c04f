"""Make the README's drift and LLM dashboard pictures from a real run (about 3 min here):

    PYTHONPATH=. .venv/bin/python -m tests.monitoring.dashboards.picture_models \\
        --out monitoring/dashboards/pictures

In a private ``BENTOML_HOME``: a churn classifier and the tiny GPT-2-style model are trained
(as the test session's fixtures do), then a real Prometheus with canaria's rules scrapes

* ``canaria drift monitor`` comparing a canary's sample log with the stable's: the canary
  log grows with customers shifted ever further (``covariate-shift``, strength 0 -> 1), so
  the drift share and the column scores climb over the run;
* the LLM service under ``bentoml serve`` (the real tiny model on the CPU, not the fake
  kit) answering a steady stream of streamed and plain completions.

Both drawn by ``monitoring.dashboards.pictures``. The drift dashboard's retraining panel
stays empty here (no operator runs a retraining loop in this run).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

DRIFT_UID, LLM_UID = "canaria-drift", "canaria-llm"
LABELS = {"namespace": "default", "rollout": "churn"}
SECONDS = 90.0
BATCHES = 9


def _scrape(name: str, address: str, labels: dict[str, str]) -> dict[str, object]:
    return {"job_name": name, "static_configs": [{"targets": [address], "labels": labels}]}


def prometheus_settings(rules: Path, drift_url: str, llm_url: str) -> dict[str, object]:
    """Scrape the drift monitor and the LLM service (as rollout ``default/churn``'s stable)
    every second; evaluate ``rules`` every second."""
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            _scrape("drift", drift_url.removeprefix("http://"), LABELS),
            _scrape("llm", llm_url.removeprefix("http://"), {**LABELS, "variant": "stable"}),
        ],
    }


@contextlib.contextmanager
def llm_traffic(base_url: str) -> Iterator[None]:
    """Completions in a loop from one thread (every third one streamed) until exit."""
    stop = threading.Event()

    def loop() -> None:
        prompts = ["Customer: Hi\nAgent:", "Customer: my bill is wrong\nAgent:"]
        with httpx.Client(base_url=base_url, timeout=60) as client:
            index = 0
            while not stop.is_set():
                body = {"prompt": prompts[index % 2], "max_tokens": 8 + 4 * (index % 3)}
                if index % 3 == 0:
                    streamed = {**body, "stream": True}
                    with client.stream("POST", "/v1/completions", json=streamed) as answer:
                        for _ in answer.iter_lines():
                            pass
                else:
                    client.post("/v1/completions", json=body)
                index += 1
                stop.wait(0.2)

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=60)


def drift_monitor(model_tag: str, stable: Path, canary: Path) -> list[str]:
    from canaria.testing.running import VENV_BIN, free_port

    port = free_port()
    return [
        str(VENV_BIN / "canaria"), "drift", "monitor", "--model", model_tag,
        "--log", f"stable={stable}", "--log", f"canary={canary}", "--compare", "canary=stable",
        "--interval", "2", "--window", "3600", "--port", str(port),
    ]  # fmt: skip


def train() -> tuple[str, str]:
    """(classic tag, LLM tag): the test session's small models, trained into BENTOML_HOME."""
    from training import classic, llm

    return str(classic.train_and_save(seed=7, n_rows=4000)), str(
        llm.train_and_save(seed=7, max_steps=30)
    )


def run(
    out: Path,
    workdir: Path,
    *,
    classic_tag: str,
    llm_tag: str,
    seconds: float = SECONDS,
    batches: int = BATCHES,
) -> dict[str, int]:
    """Serve, scrape for ``seconds`` while the canary drifts in ``batches`` steps, then
    draw both dashboards into ``out``; returns the panels with data per dashboard."""
    from canaria.testing.running import running
    from monitoring.dashboards.pictures import render_all
    from monitoring.rules.build import RuleSettings
    from monitoring.rules.files import write
    from tests.monitoring.dashboards.test_exported_names import bentoml_serve
    from tests.monitoring.drift.frames import customers
    from tests.monitoring.drift.logs import write_sample_log
    from tests.monitoring.rules.stack import running_prometheus_with_rules

    rules = write(workdir / "rules", RuleSettings(for_override="2s"))
    stable = write_sample_log(workdir / "stable.jsonl", customers(400, seed=21))
    canary = write_sample_log(workdir / "canary.jsonl", customers(100, seed=22))
    args = drift_monitor(classic_tag, stable, canary)
    env = {"CANARIA_LLM_MODEL": llm_tag, "CANARIA_LLM_DEVICE": "cpu"}
    with (
        running(
            args,
            log_path=workdir / "drift.log",
            port=int(args[-1]),
            ready_path="/metrics",
            timeout=120,
        ) as monitor,  # fmt: skip
        bentoml_serve("services.llm.service:LLMService", env, workdir, "llm") as server,
    ):
        settings = prometheus_settings(rules, monitor.base_url, server.base_url)
        started = time.time()
        with (
            running_prometheus_with_rules(settings, workdir) as prometheus,
            llm_traffic(server.base_url),
        ):
            for batch in range(1, batches + 1):
                time.sleep(seconds / batches)
                shifted = customers(100, seed=22 + batch, scenario="covariate-shift",
                                    strength=batch / batches)  # fmt: skip
                write_sample_log(canary, shifted)
            time.sleep(5)
            return render_all(
                prometheus.base_url, out, start=started, end=time.time(), scrape_interval=1,
                uids=[DRIFT_UID, LLM_UID],
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canaria-pictures-") as workdir:
        # A private model store before anything imports bentoml (as tests/conftest.py does).
        os.environ["BENTOML_HOME"] = str(Path(workdir) / "bentoml")
        os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
        classic_tag, llm_tag = train()
        drawn = run(args.out.resolve(), Path(workdir), classic_tag=classic_tag, llm_tag=llm_tag)
        for uid, count in drawn.items():
            print(f"{uid}: {count} panels with data")


if __name__ == "__main__":
    main()
