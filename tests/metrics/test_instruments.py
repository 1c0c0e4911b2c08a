"""The recording functions, read back from the in-process registry."""

from __future__ import annotations

from backend import metrics
from backend.metrics.instruments import instruments


def value(name: str, **labels: str) -> float:
    found = instruments().registry.get_sample_value(name, labels)
    return found or 0.0


def test_job_counts_set_every_state_of_a_kind_so_emptied_states_read_zero() -> None:
    metrics.set_job_counts({("email", "queued"): 3, ("email", "dead"): 1})
    metrics.set_job_counts({("email", "queued"): 2})

    assert value("backend_jobs", kind="email", state="queued") == 2
    assert value("backend_jobs", kind="email", state="dead") == 0
    assert {"queued", "running", "succeeded", "dead"} == set(metrics.JOB_STATES)


def test_job_finished_counts_by_state_and_times_by_kind() -> None:
    before = value("backend_jobs_finished_total", kind="webhook", state="dead")
    runs = value("backend_job_run_duration_seconds_count", kind="webhook")

    metrics.job_finished("webhook", "dead", 0.25)

    assert value("backend_jobs_finished_total", kind="webhook", state="dead") == (
        before + 1
    )
    assert value("backend_job_run_duration_seconds_count", kind="webhook") == runs + 1


def test_webhook_metrics() -> None:
    before = value("backend_webhook_deliveries_total", result="failed")
    metrics.webhook_delivered("failed")
    metrics.set_oldest_undelivered_age(-3)  # clocks apart: never negative

    assert value("backend_webhook_deliveries_total", result="failed") == before + 1
    assert value("backend_webhook_oldest_undelivered_seconds") == 0


def test_subscribers_and_pool_gauges_go_up_and_down() -> None:
    open_before = value("backend_event_subscribers", transport="sse")
    metrics.subscriber_opened("sse")
    assert value("backend_event_subscribers", transport="sse") == open_before + 1
    metrics.subscriber_closed("sse")
    assert value("backend_event_subscribers", transport="sse") == open_before

    waiting = value("backend_db_pool_waiting")
    metrics.pool_waiters(1)
    assert value("backend_db_pool_waiting") == waiting + 1
    metrics.pool_waiters(-1)
    assert value("backend_db_pool_waiting") == waiting
