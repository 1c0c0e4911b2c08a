"""Ceilings measured around their service's run, and runs pooled into one."""

from __future__ import annotations

from typing import Any

import pytest
from bench.wrk import LoadResult, pooled

from bench import scenarios

PLAN = scenarios.Plan.for_mode(quick=False)


def load(
    requests: int, seconds: float, p50: float, p99: float, **errors: int
) -> LoadResult:
    return LoadResult(
        requests, seconds, p50, p50 * 2, p99, p99 * 2, sum(errors.values()), errors
    )


def test_pooled_runs_sum_their_time_and_keep_the_worst_tail() -> None:
    slow, fast = load(1_000, 10.0, 40.0, 90.0, timeout=2), load(3_000, 10.0, 20.0, 50.0)

    both = pooled([slow, fast])

    assert both.rps == pytest.approx(200.0)
    assert both.p50_ms == pytest.approx((40 * 1_000 + 20 * 3_000) / 4_000)
    assert (both.p99_ms, both.max_ms) == (90.0, 180.0)
    assert (both.errors, both.error_detail) == (2, {"timeout": 2})


def test_baselines_run_in_halves_mirrored_around_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, float]] = []
    rates = {"ceiling": [100, 300], "seed": [50, 70], "service": [150]}

    def fake_wrk(base: str, script: str, **kwargs: Any) -> LoadResult:
        calls.append((base, kwargs["seconds"]))
        rps = rates[base].pop(0)
        return load(rps * int(kwargs["seconds"]), kwargs["seconds"], 1.0, 2.0)

    monkeypatch.setattr(scenarios, "run_wrk", fake_wrk)

    service, (ceiling, seed) = scenarios.bracketed(
        "service", ["ceiling", "seed"], "read_one.lua", 64, PLAN
    )

    half = PLAN.seconds / 2
    assert calls == [
        ("ceiling", half),
        ("seed", half),
        ("service", PLAN.seconds),
        ("seed", half),
        ("ceiling", half),
    ]
    assert (service.rps, ceiling.rps, seed.rps) == (150, 200, 60)


def test_the_service_row_is_judged_against_the_pooled_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rates = {"ceiling": [1_000, 600], "service": [560]}

    def fake_wrk(base: str, script: str, **kwargs: Any) -> LoadResult:
        rps = rates[base].pop(0)
        return load(rps * int(kwargs["seconds"]), kwargs["seconds"], 5.0, 10.0)

    monkeypatch.setattr(scenarios, "run_wrk", fake_wrk)
    ceiling = scenarios.Ceiling("ceiling", "read_one.lua", "ceiling: raw")

    ceiling_row, row = scenarios.against_ceiling(
        "read-one", "service", ceiling, 64, PLAN, minimum=0.7
    )

    assert (ceiling_row.scenario, ceiling_row.rps) == ("ceiling: raw", 800)
    assert row.ratio == pytest.approx(0.7)
    assert row.passed is True
