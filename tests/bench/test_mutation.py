"""bench/mutation.py: reading mutmut's results and the JSON it writes (pure parts)."""

from __future__ import annotations

from bench.mutation import parse_results, summarise

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
