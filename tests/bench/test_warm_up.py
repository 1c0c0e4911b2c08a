"""The warm-up runs until throughput stops rising, within its bounds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from bench.scenarios import Plan
from bench.wrk import LoadResult

from bench import scenarios

PLAN = Plan.for_mode(quick=False)


def _steps(rates: Sequence[float]) -> Iterator[LoadResult]:
    for rps in rates:
        yield LoadResult(
            requests=int(rps * PLAN.warmup_step),
            seconds=PLAN.warmup_step,
            p50_ms=1,
            p90_ms=1,
            p99_ms=1,
            max_ms=1,
            errors=0,
            error_detail={},
        )


def _warm_up(monkeypatch: pytest.MonkeyPatch, rates: Sequence[float]) -> int:
    """How many warm-up steps ran against a server with these throughputs."""
    steps = _steps(rates)
    ran: list[LoadResult] = []

    def fake_wrk(*args: object, **kwargs: object) -> LoadResult:
        ran.append(next(steps))
        return ran[-1]

    monkeypatch.setattr(scenarios, "run_wrk", fake_wrk)
    scenarios.warm_up("http://server", "read_one.lua", PLAN)
    return len(ran)


def test_a_filling_cache_keeps_the_warm_up_going(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rising = [1500, 1900, 2200, 2450, 2650, 2900, 2910, 3000]
    assert _warm_up(monkeypatch, rising) == 7  # stops at the first flat step


def test_a_steady_server_is_warm_after_two_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _warm_up(monkeypatch, [3000, 2950, 3100]) == 2


def test_the_warm_up_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    forever_rising = [1000 * 1.1**step for step in range(100)]
    assert _warm_up(monkeypatch, forever_rising) == PLAN.warmup_max / PLAN.warmup_step
