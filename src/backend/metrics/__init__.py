"""Prometheus metrics: what the service records, and `/metrics`.

Recording functions (import `from backend import metrics`; no Quart, so
services, jobs and webhooks may call them):

- `http_request(route, method, status, seconds)`: `backend_http_requests_total`
  (counter: route template, method, status) and
  `backend_http_request_duration_seconds` (histogram: route, method); recorded
  for every HTTP response by `metrics.web`.
- `pool_checked_out(+1 | -1)`, `pool_waiters(+1 | -1)`: `backend_db_pool_in_use`,
  `backend_db_pool_waiting` (gauges, summed over the live workers).
- `subscriber_opened(transport)`, `subscriber_closed(transport)`:
  `backend_event_subscribers` (gauge: transport `websocket` or `sse`).
- `order_event_delivered(transport)`: `backend_order_events_delivered_total`
  (counter: transport).
- `set_job_counts({(kind, state): n})`: `backend_jobs` (gauge: kind, state, as
  read from the database; best from a scrape hook).
- `job_finished(kind, state, seconds)`: `backend_jobs_finished_total` (counter:
  kind, state after the run) and `backend_job_run_duration_seconds` (histogram:
  kind).
- `webhook_delivered(result)`: `backend_webhook_deliveries_total` (counter:
  result `succeeded` or `failed`).
- `set_oldest_undelivered_age(seconds)`:
  `backend_webhook_oldest_undelivered_seconds` (gauge).

Values read from the database (job counts, the oldest undelivered event) are
best refreshed just before a scrape: `metrics.web.on_scrape(app, hook)` runs an
async hook before `/metrics` answers.

Modules: `instruments` (the metrics and these functions), `multiprocess` (the
per-server directory of Hypercorn's workers' files, cleaned of dead workers),
`web` (the request hooks, the pool listeners and the `/metrics` route; Quart).
"""

from backend.metrics.instruments import (
    JOB_STATES,
    http_request,
    job_finished,
    order_event_delivered,
    pool_checked_out,
    pool_waiters,
    set_job_counts,
    set_oldest_undelivered_age,
    subscriber_closed,
    subscriber_opened,
    webhook_delivered,
)

__all__ = [
    "JOB_STATES",
    "http_request",
    "job_finished",
    "order_event_delivered",
    "pool_checked_out",
    "pool_waiters",
    "set_job_counts",
    "set_oldest_undelivered_age",
    "subscriber_closed",
    "subscriber_opened",
    "webhook_delivered",
]
