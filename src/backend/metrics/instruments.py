"""The service's metrics and the small typed functions that record them.

No Quart here: services, the job queue and webhook delivery call these
functions directly. The instruments are process-wide and built on first use,
after `configure` has chosen where values live: in this process's memory, or
(in a Hypercorn worker) in prometheus-client's per-process files in the
server's metrics directory, from which one scrape adds up every worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

# Job states as the contract names them (Job object `state`).
JOB_STATES = ("queued", "running", "succeeded", "dead")
# Request durations: a read is a few ms, a login (Argon2) a few hundred.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Job run times: an email is sub-second, a webhook may wait its 10 s timeout.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class Instruments:
    registry: CollectorRegistry
    http_requests: Counter
    http_duration: Histogram
    pool_in_use: Gauge
    pool_waiting: Gauge
    subscribers: Gauge
    events_delivered: Counter
    jobs: Gauge
    jobs_finished: Counter
    job_duration: Histogram
    webhook_deliveries: Counter
    webhook_oldest_undelivered: Gauge


_directory: Path | None = None
_instruments: Instruments | None = None


def configure(directory: Path | None) -> None:
    """Keep values in `directory`'s per-process files (None: in memory).

    Must come before the first value is recorded; configuring the same way
    again (every `create_app` in one process) changes nothing.
    """
    global _directory
    if _instruments is not None:
        if directory != _directory:
            raise RuntimeError("metrics were recorded before they were configured")
        return
    _directory = directory
    if directory is not None:
        # prometheus-client reads the directory from the environment each time
        # a value is created, and picks file-backed values by this class.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        values.ValueClass = values.MultiProcessValue()


def multiprocess_directory() -> Path | None:
    return _directory


def instruments() -> Instruments:
    global _instruments
    if _instruments is None:
        _instruments = _build()
    return _instruments


def _build() -> Instruments:
    registry = CollectorRegistry(auto_describe=True)
    # Gauges of live state are summed over the workers alive ("livesum"); a
    # dead worker's share is removed with its files. Values read from the
    # database at scrape time are the same whichever worker wrote them, so the
    # most recent write wins ("mostrecent").
    return Instruments(
        registry=registry,
        http_requests=Counter(
            "backend_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        ),
        http_duration=Histogram(
            "backend_http_request_duration_seconds",
            "Time from routing to response, by route template and method.",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        ),
        pool_in_use=Gauge(
            "backend_db_pool_in_use",
            "Database connections checked out of the pools.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        pool_waiting=Gauge(
            "backend_db_pool_waiting",
            "Requests waiting for a database connection.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        subscribers=Gauge(
            "backend_event_subscribers",
            "Open order-event subscriptions by transport (websocket, sse).",
            ["transport"],
            registry=registry,
            multiprocess_mode="livesum",
        ),
        events_delivered=Counter(
            "backend_order_events_delivered",
            "Order events sent to subscribers, by transport.",
            ["transport"],
            registry=registry,
        ),
        jobs=Gauge(
            "backend_jobs",
            "Jobs in the queue by kind and state (read from the database).",
            ["kind", "state"],
            registry=registry,
            multiprocess_mode="mostrecent",
        ),
        jobs_finished=Counter(
            "backend_jobs_finished",
            "Job runs ended, by kind and the state they left the job in.",
            ["kind", "state"],
            registry=registry,
        ),
        job_duration=Histogram(
            "backend_job_run_duration_seconds",
            "Time one job run took, by kind.",
            ["kind"],
            buckets=JOB_BUCKETS,
            registry=registry,
        ),
        webhook_deliveries=Counter(
            "backend_webhook_deliveries",
            "Webhook delivery attempts by result (succeeded, failed).",
            ["result"],
            registry=registry,
        ),
        webhook_oldest_undelivered=Gauge(
            "backend_webhook_oldest_undelivered_seconds",
            "Age of the oldest event not yet delivered to a webhook (0: none).",
            registry=registry,
            multiprocess_mode="mostrecent",
        ),
    )


# The recording functions. Each is cheap (a dict look-up and a write to the
# process's own memory or mmapped file) and never blocks.


# The labelled children of the hot path, looked up once: `labels()` validates
# and locks on every call. Bounded: routes x methods x statuses.
_http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def http_request(route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP response; `route` is the URL rule's template, never a real path."""
    key = (route, method, status)
    children = _http_children.get(key)
    if children is None:
        metrics = instruments()
        children = _http_children[key] = (
            metrics.http_requests.labels(route, method, str(status)),
            metrics.http_duration.labels(route, method),
        )
    children[0].inc()
    children[1].observe(seconds)


def pool_checked_out(change: int) -> None:
    """A connection left (+1) or came back to (-1) a pool."""
    instruments().pool_in_use.inc(change)


def pool_waiters(change: int) -> None:
    """A request started (+1) or stopped (-1) waiting for a connection."""
    instruments().pool_waiting.inc(change)


def subscriber_opened(transport: str) -> None:
    """An order-event subscription opened: `websocket` or `sse`."""
    instruments().subscribers.labels(transport).inc()


def subscriber_closed(transport: str) -> None:
    instruments().subscribers.labels(transport).dec()


def order_event_delivered(transport: str) -> None:
    """One order event sent to one subscriber."""
    instruments().events_delivered.labels(transport).inc()


def set_job_counts(counts: Mapping[tuple[str, str], int]) -> None:
    """The queue's job counts, `{(kind, state): n}`, as read from the database.

    Every state of every kind given is set, missing ones to 0, so a state that
    emptied does not keep its old count.
    """
    gauge = instruments().jobs
    for kind in {kind for kind, _ in counts}:
        for state in JOB_STATES:
            gauge.labels(kind, state).set(counts.get((kind, state), 0))


def job_finished(kind: str, state: str, seconds: float) -> None:
    """One run of a job ended after `seconds`, leaving it in `state`.

    `state` is the job's state after the run: `succeeded`, `queued` (failed,
    to be retried) or `dead` (failed for the last time).
    """
    metrics = instruments()
    metrics.jobs_finished.labels(kind, state).inc()
    metrics.job_duration.labels(kind).observe(seconds)


def webhook_delivered(result: str) -> None:
    """One webhook delivery attempt ended: `succeeded` or `failed`."""
    instruments().webhook_deliveries.labels(result).inc()


def set_oldest_undelivered_age(seconds: float) -> None:
    """Age of the oldest event some webhook endpoint has not received yet (0: none)."""
    instruments().webhook_oldest_undelivered.set(max(seconds, 0.0))
