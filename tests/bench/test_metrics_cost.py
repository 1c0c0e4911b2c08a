"""The metrics-cost row: on/off medians against the 3 % budget."""

from __future__ import annotations

from bench.scenarios import metrics_cost
from bench.wrk import LoadResult


def load(rps: float, errors: int = 0) -> LoadResult:
    return LoadResult(int(rps * 10), 10.0, 1.0, 2.0, 3.0, 4.0, errors, {})


def test_a_cost_within_three_percent_passes() -> None:
    row = metrics_cost([load(980), load(990), load(900)], [load(1000)] * 3, 64)
    assert row.ratio == 0.98
    assert row.passed is True


def test_a_larger_cost_or_any_error_fails() -> None:
    assert metrics_cost([load(960)], [load(1000)], 64).passed is False
    assert metrics_cost([load(1000, errors=1)], [load(1000)], 64).passed is False
