"""The HTTP scenarios: each drives the running service and returns table rows."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.report import Row
from bench.stats import percentile
from bench.wrk import LoadResult, run_wrk

LOGIN_STORM_CONNS = 50
PROBE_INTERVAL_S = 0.005
# A warm-up step less than this much faster than the best before it is steady.
WARMUP_RISE = 0.03
# What metrics may cost read-one's throughput (issue 20: at most 3 %).
METRICS_MAX_COST = 0.03


@dataclass(frozen=True)
class Plan:
    """How long each measurement lasts; `--quick` shortens every one."""

    seconds: float
    # Warm-up runs in steps until throughput stops rising, within these bounds.
    warmup_step: float
    warmup_max: float
    fanout_seconds: float
    # How long fan-out clients may take to get every subscriber connected.
    connect_window: float
    # Alternating rounds of read-one with metrics on and off.
    metrics_rounds: int = 3

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                seconds=3,
                warmup_step=2,
                warmup_max=6,
                fanout_seconds=3,
                connect_window=30,
                metrics_rounds=1,
            )
        return cls(
            seconds=20,
            warmup_step=5,
            warmup_max=60,
            fanout_seconds=15,
            connect_window=90,
        )


@dataclass(frozen=True)
class Files:
    tokens: Path
    admin_tokens: Path
    usernames: Path


def route_missing(url: str, method: str = "GET", **kwargs: object) -> str | None:
    """Why a route cannot be benchmarked yet (not built: 404/405), else None."""
    try:
        response = httpx.request(method, url, timeout=5, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as error:
        return f"unreachable: {error!r}"
    if response.status_code in (404, 405):
        return f"{method} {url} answers {response.status_code}: route not available"
    return None


def wrk_row(
    scenario: str,
    base: str,
    script: str,
    conns: int,
    plan: Plan,
    args: dict[str, str] | None = None,
) -> tuple[Row, LoadResult]:
    load = run_wrk(base, script, connections=conns, seconds=plan.seconds, args=args)
    return Row.from_load(scenario, conns, load), load


def warm_up(
    base: str, script: str, plan: Plan, args: dict[str, str] | None = None
) -> None:
    """Load the server until its throughput stops rising.

    Measurements are of the steady state: connection pools open, statements
    prepared and, for the service, each worker's product cache filled. A cache
    fills as random reads happen to hit each product, which takes tens of
    seconds, so a fixed short warm-up would measure the filling instead.
    """
    best, spent = 0.0, 0.0
    while spent < plan.warmup_max:
        load = run_wrk(
            base, script, connections=64, seconds=plan.warmup_step, args=args
        )
        spent += plan.warmup_step
        if best and load.rps <= best * (1 + WARMUP_RISE):
            break
        best = max(best, load.rps)
    print(f"  warmed up in {spent:.0f} s", flush=True)


def read_one(base: str, conns: int, plan: Plan, ceiling: LoadResult | None) -> Row:
    row, load = wrk_row("read-one", base, "read_one.lua", conns, plan)
    ratio_target(row, load, ceiling, minimum=0.8)
    if conns >= 256:
        tail_target(row, extra_ok=bool(row.passed))
    return row


def metrics_cost(
    with_metrics: list[LoadResult], without: list[LoadResult], conns: int
) -> Row:
    """read-one with metrics against without: the median of each side's rounds."""
    on = statistics.median(load.rps for load in with_metrics)
    off = statistics.median(load.rps for load in without)
    best = max(with_metrics, key=lambda load: load.rps)
    row = Row.from_load("read-one, metrics on/off", conns, best)
    row.rps = on
    row.ratio = on / off if off else None
    row.target = f"cost<={METRICS_MAX_COST:.0%} (on/off>={1 - METRICS_MAX_COST})"
    row.passed = row.ratio is not None and row.ratio >= 1 - METRICS_MAX_COST
    row.extra.update(
        rps_with=[load.rps for load in with_metrics],
        rps_without=[load.rps for load in without],
        errors=sum(load.errors for load in with_metrics + without),
    )
    row.passed = row.passed and row.extra["errors"] == 0
    return row


def many_clients(base: str, plan: Plan) -> Row:
    row, _ = wrk_row("many-clients", base, "read_one.lua", 1024, plan)
    row.target = "errors=0, p99<=4x p50"
    row.passed = row.errors == 0 and row.tail_ok()
    return row


def place_order(
    base: str, conns: int, plan: Plan, files: Files, ceiling: LoadResult | None
) -> tuple[Row, LoadResult]:
    args = {"tokens": str(files.tokens)}
    # Measured warm, like the reads: from a fresh start the first 5 s ran at
    # three quarters of the steady rate, and two 20 s runs read 0.72x, 0.54x.
    warm_up(base, "place_order.lua", plan, args)
    row, load = wrk_row("place-order", base, "place_order.lua", conns, plan, args)
    ratio_target(row, load, ceiling, minimum=0.5)
    return row, load


def ratio_target(
    row: Row, load: LoadResult, ceiling: LoadResult | None, *, minimum: float
) -> None:
    row.target = f">={minimum}x ceiling"
    if ceiling is not None and ceiling.rps:
        row.ratio = load.rps / ceiling.rps
        row.passed = row.ratio >= minimum and load.errors == 0


def tail_target(row: Row, *, extra_ok: bool = True) -> None:
    row.target = (row.target + ", " if row.target else "") + "p99<=4x p50"
    row.passed = extra_ok and row.tail_ok() and row.errors == 0


async def _probe(base: str, seconds: float) -> list[float]:
    """Sequential GET /health every few ms; the latencies in ms, sorted."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            (await client.get("/health")).raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(PROBE_INTERVAL_S)
    return sorted(latencies)


async def _storm(base: str, plan: Plan, files: Files) -> tuple[list[float], LoadResult]:
    args = {"users": str(files.usernames), "password": "Bench-Password-1"}
    storm = asyncio.create_task(
        asyncio.to_thread(
            run_wrk,
            base,
            "login.lua",
            connections=LOGIN_STORM_CONNS,
            seconds=plan.seconds,
            args=args,
        )
    )
    await asyncio.sleep(1)  # let the storm build before measuring
    during = await _probe(base, _probe_seconds(plan))
    return during, await storm


def _probe_seconds(plan: Plan) -> float:
    """The probe's window, idle and during the storm alike.

    Equal windows give the two p99s equal sample counts; a shorter idle
    window made its p99 (and so the ratio) swing with a handful of samples.
    """
    return plan.seconds - 2  # the storm's first and last second are ramps


def login_storm(base: str, plan: Plan, files: Files) -> list[Row]:
    idle = asyncio.run(_probe(base, _probe_seconds(plan)))
    during, logins = asyncio.run(_storm(base, plan, files))
    idle_p99, during_p99 = percentile(idle, 99), percentile(during, 99)
    probe = Row(
        "login-storm /health probe",
        1,
        None,
        percentile(during, 50),
        during_p99,
        0,
        ratio=during_p99 / idle_p99 if idle_p99 else None,
        target="p99 during <=3x idle",
        passed=bool(idle_p99) and during_p99 <= 3 * idle_p99,
        extra={
            "idle_p50_ms": percentile(idle, 50),
            "idle_p99_ms": idle_p99,
            "idle_samples": len(idle),
            "during_samples": len(during),
        },
    )
    storm = Row.from_load("login-storm logins", LOGIN_STORM_CONNS, logins)
    return [storm, probe]
