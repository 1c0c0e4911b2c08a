"""login-storm: the median round decides, each storm against the idle before it."""

from __future__ import annotations

from bench.scenarios import login_storm_rows
from bench.wrk import LoadResult

LOGINS = LoadResult(
    requests=300,
    seconds=5,
    p50_ms=800,
    p90_ms=1000,
    p99_ms=1100,
    max_ms=1200,
    errors=0,
    error_detail={"status": 0},
)


def _window(p99_ms: float, samples: int = 200) -> list[float]:
    """`samples` latencies whose nearest-rank p99 is `p99_ms`."""
    fast = [1.0] * (samples - 3)
    return sorted([*fast, p99_ms, p99_ms, p99_ms])


def test_one_noisy_idle_window_does_not_decide_the_verdict() -> None:
    idle = [_window(4), _window(40), _window(4)]  # a burst on the host in round 2
    during = [_window(10), _window(11), _window(10)]
    _, probe = login_storm_rows(idle, during, [LOGINS] * 3)
    assert probe.ratio == 2.5
    assert probe.passed
    assert probe.extra["round_ratios"] == [2.5, 11 / 40, 2.5]


def test_one_noisy_storm_window_does_not_fail_it_and_two_do() -> None:
    idle = [_window(4)] * 3
    _, once = login_storm_rows(
        idle, [_window(10), _window(30), _window(11)], [LOGINS] * 3
    )
    _, twice = login_storm_rows(
        idle, [_window(13), _window(30), _window(11)], [LOGINS] * 3
    )
    assert once.passed
    assert once.ratio == 2.75
    assert not twice.passed
    assert twice.ratio == 3.25


def test_the_logins_of_every_round_add_up() -> None:
    storm, _ = login_storm_rows([_window(4)] * 3, [_window(10)] * 3, [LOGINS] * 3)
    assert storm.rps == 60
    assert storm.errors == 0
    assert storm.p99_ms == 1100
