"""Benchmarks count only 2xx answers as throughput; a point with errors fails its goal."""

from __future__ import annotations

from bench import bench_classic, bench_router
from bench.llm_report import StreamTiming, summarise
from bench.loadgen import LoadResult, error_statuses, goal_met, lua_script, parse_wrk_output

# wrk --latency output as wrk 4.1 prints it, with the script's status lines (issue 8 §8's
# run: 1,544 of 8,791 answers at concurrency 32 were not 2xx).
WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:3000
  2 threads and 32 connections
  Latency Distribution
     50%   30.00ms
     75%   40.00ms
     90%   50.00ms
     99%   90.00ms
  8791 requests in 10.00s, 2.00MB read
  Non-2xx or 3xx responses: 1544
Requests/sec:    879.10
Transfer/sec:    200.00KB
canaria-status 200 7247
canaria-status 503 1544
"""


def point(
    concurrency: int, statuses: dict[str, int], rate: float, socket_errors: int = 0
) -> LoadResult:
    return LoadResult(
        concurrency=concurrency,
        duration_s=10,
        requests=sum(statuses.values()),
        requests_per_s=rate,
        p50_ms=10.0,
        p90_ms=20.0,
        p99_ms=30.0,
        non_2xx=sum(n for s, n in statuses.items() if not s.startswith("2")),
        socket_errors=socket_errors,
        statuses=statuses,
    )


def test_wrk_statuses_are_parsed_and_only_2xx_is_throughput() -> None:
    result = parse_wrk_output(WRK_OUTPUT, concurrency=32, duration_s=10)
    assert result.statuses == {"200": 7247, "503": 1544}
    assert (result.ok, result.errors) == (7247, 1544)
    assert result.ok_per_s == 879.10 * 7247 / 8791
    assert error_statuses(result) == {"503": 1544}
    assert result.to_dict()["ok_per_s"] == result.ok_per_s


def test_the_wrk_script_counts_statuses() -> None:
    script = lua_script(bodies=["{}"], path="/predict", headers={})
    assert "function response(status" in script and "canaria-status" in script


def test_a_point_with_any_error_fails_its_goal() -> None:
    clean = point(32, {"200": 100}, 10.0)
    assert goal_met(True, clean)
    assert not goal_met(False, clean)
    assert not goal_met(True, clean, point(32, {"200": 99, "500": 1}, 10.0))
    assert not goal_met(True, point(32, {"200": 100}, 10.0, socket_errors=1))
    assert error_statuses(point(1, {"200": 5, "429": 1}, 1.0, socket_errors=2)) == {
        "429": 1,
        "socket_error": 2,
    }


def test_classic_goals_fail_when_its_points_had_errors() -> None:
    plain = [point(1, {"200": 100}, 100.0), point(32, {"200": 300}, 300.0)]
    # Counting every answer, BentoML would look 2x faster; 2xx only, it is 1.2x.
    bentoml = [point(1, {"200": 100}, 100.0), point(32, {"200": 360, "503": 240}, 600.0)]
    compared = bench_classic._comparison({"bentoml": bentoml, "plain": plain})
    assert compared["throughput_ratio_c32"] == 1.2
    assert compared["errors"] == {"bentoml_c32": {"503": 240}}
    assert compared["goals"] == {
        "throughput_ratio_c32>=1.5": False,
        "p50_overhead_ms_c1<=2.0": True,
    }
    # The same numbers without errors meet the throughput goal.
    bentoml[1] = point(32, {"200": 600}, 600.0)
    assert bench_classic._comparison({"bentoml": bentoml, "plain": plain})["goals"][
        "throughput_ratio_c32>=1.5"
    ]


def test_router_throughput_ratio_and_mean_count_2xx_only() -> None:
    direct, routed = point(8, {"200": 100}, 100.0), point(8, {"200": 50, "502": 50}, 100.0)
    assert bench_router.overhead(direct, routed)["throughput_ratio"] == 0.5
    mean = bench_router.mean_result([routed, point(8, {"200": 10, "504": 1}, 11.0)])
    assert mean.statuses == {"200": 60, "502": 50, "504": 1}


def test_llm_points_time_2xx_only_and_record_the_rest() -> None:
    good = StreamTiming(0.0, 0.1, 0.5, 0.6, 5)
    failed = StreamTiming(0.0, 0.0, 0.0, 0.01, 0, status=503)
    summary = summarise([good, good, failed], wall_s=1.0, max_tokens=5)
    assert (summary["requests"], summary["ok"], summary["errors"]) == (3, 2, {"503": 1})
    assert summary["clean"] is False
    assert summary["aggregate_tokens_per_s"] == 10.0
    assert summarise([good, good], wall_s=1.0, max_tokens=5)["clean"] is True
    assert summarise([failed], wall_s=1.0, max_tokens=5) == {
        "requests": 1,
        "ok": 0,
        "errors": {"503": 1},
        "clean": False,
    }
