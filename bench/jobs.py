"""The `jobs` scenario: drain rate, the enqueue's cost to a request, idle delay.

Runs against `bench.jobs_app:app` (the service plus two bench-only routes) on
2 workers, each running jobs with the default `JOB_CONCURRENCY`:

- drain: 10,000 `noop` jobs enqueued by a burst of requests (10 per request,
  64 at a time) and run by the two workers; the rate is the jobs over the
  time from the first enqueue to the last job finished, so a slow burst
  could only make it look worse;
- enqueue cost: the p50 of a request that enqueues one job against the same
  request without (interleaved, one connection, one at a time);
- delay: one job at a time while idle, from its enqueue to its finish as the
  database recorded them (the commit, the wake-up, the claim, the no-op and
  recording it), an upper bound of commit-to-start.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx

from bench.report import Row
from bench.scenarios import Plan
from bench.stats import percentile

JOBS = 10_000
PER_REQUEST = 10
BURST_CONNS = 64
DRAIN_TARGET = 1_000.0  # jobs/s
ENQUEUE_COST_TARGET_MS = 1.0
DELAY_TARGET_MS = 1_000.0
_TIMES = (
    "SELECT extract(epoch FROM min(created_at)), extract(epoch FROM max(finished_at)),"
    " count(*) FILTER (WHERE state = 'succeeded'), count(*)"
    " FROM job WHERE kind = 'noop' AND id > $1"
)
_DELAYS = (
    "SELECT extract(epoch FROM finished_at - created_at) * 1000 FROM job"
    " WHERE kind = 'noop' AND id > $1 AND state = 'succeeded'"
)
_LAST_ID = "SELECT coalesce(max(id), 0) FROM job"


def measure(base: str, dsn: str, plan: Plan) -> list[Row]:
    return asyncio.run(_measure(base, dsn, plan))


async def _measure(base: str, dsn: str, plan: Plan) -> list[Row]:
    db = await asyncpg.connect(dsn)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            await _warm_up(http)
            drain = await _drain(http, db)
            cost = await _enqueue_cost(http, samples=500 if plan.seconds < 10 else 2000)
            delay = await _idle_delay(
                http, db, samples=200 if plan.seconds < 10 else 500
            )
    finally:
        await db.close()
    return [drain, cost, delay]


async def _warm_up(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        (await http.post("/bench/plain")).raise_for_status()
        (await http.post("/bench/enqueue")).raise_for_status()
    await asyncio.sleep(2)  # let the warm-up's jobs drain


async def _drain(http: httpx.AsyncClient, db: asyncpg.Connection) -> Row:
    first_id = await db.fetchval(_LAST_ID)
    gate = asyncio.Semaphore(BURST_CONNS)

    async def one() -> None:
        async with gate:
            response = await http.post(f"/bench/enqueue?count={PER_REQUEST}")
            response.raise_for_status()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(JOBS // PER_REQUEST)))
    burst = time.monotonic() - started
    deadline = time.monotonic() + 300
    while True:
        begin, end, done, total = await db.fetchrow(_TIMES, first_id)
        if done == total == JOBS or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    rate = done / float(end - begin) if done and end and begin else 0.0
    print(
        f"  drain: {done:,} jobs in {float(end - begin):.2f} s ({rate:,.0f}/s);"
        f" the burst of {JOBS // PER_REQUEST} requests took {burst:.2f} s",
        flush=True,
    )
    return Row(
        "jobs drain (2 workers)",
        BURST_CONNS,
        rps=rate,
        target=f">={DRAIN_TARGET:,.0f} jobs/s",
        passed=done == JOBS and rate >= DRAIN_TARGET,
        extra={"jobs": done, "burst_s": burst, "drain_s": float(end - begin)},
    )


async def _enqueue_cost(http: httpx.AsyncClient, *, samples: int) -> Row:
    timings: dict[str, list[float]] = {"plain": [], "enqueue": []}
    for _ in range(samples):
        for route in ("plain", "enqueue"):
            start = time.perf_counter()
            (await http.post(f"/bench/{route}")).raise_for_status()
            timings[route].append((time.perf_counter() - start) * 1000)
    plain, with_job = sorted(timings["plain"]), sorted(timings["enqueue"])
    cost = percentile(with_job, 50) - percentile(plain, 50)
    print(
        f"  enqueue cost: p50 {percentile(with_job, 50):.2f} ms with a job,"
        f" {percentile(plain, 50):.2f} ms without (+{cost:.2f} ms)",
        flush=True,
    )
    return Row(
        "jobs enqueue cost (p50 +ms)",
        1,
        p50_ms=percentile(with_job, 50),
        p99_ms=percentile(with_job, 99),
        target=f"p50 +<={ENQUEUE_COST_TARGET_MS:g} ms vs the same without",
        passed=cost <= ENQUEUE_COST_TARGET_MS,
        extra={"plain_p50_ms": percentile(plain, 50), "added_ms": cost},
    )


async def _idle_delay(
    http: httpx.AsyncClient, db: asyncpg.Connection, *, samples: int
) -> Row:
    await asyncio.sleep(1)
    first_id = await db.fetchval(_LAST_ID)
    for _ in range(samples):
        (await http.post("/bench/enqueue")).raise_for_status()
        await asyncio.sleep(0.02)  # idle between jobs
    await asyncio.sleep(2)
    delays = sorted(float(value) for (value,) in await db.fetch(_DELAYS, first_id))
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    print(f"  commit-to-start (idle): p50 {p50:.1f} ms, p99 {p99:.1f} ms", flush=True)
    return Row(
        "jobs commit-to-start idle",
        1,
        p50_ms=p50,
        p99_ms=p99,
        target=f"p99<={DELAY_TARGET_MS:,.0f} ms",
        passed=len(delays) == samples and p99 <= DELAY_TARGET_MS,
        extra={"samples": len(delays)},
    )
