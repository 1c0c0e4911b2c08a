"""The HTTP scenarios: each drives the running service and returns table rows."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.report import Row
from bench.stats import percentile
from bench.wrk import LoadResult, pooled, run_wrk

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
    # Alternating rounds of the login-storm probe, idle and during a storm.
    login_rounds: int = 3

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
                login_rounds=1,
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


@dataclass(frozen=True)
class Ceiling:
    """A ceiling server (bench/ceiling_app.py) and what it is measured with."""

    url: str
    script: str
    label: str


def bracketed(
    service: str,
    baselines: Sequence[str],
    script: str,
    conns: int,
    plan: Plan,
    args: dict[str, str] | None = None,
) -> tuple[LoadResult, list[LoadResult]]:
    """The service's run, and each baseline's (a ceiling, the seed) around it.

    Each baseline runs half of `plan.seconds` right before the service's run
    and half right after, in mirrored order (ceiling, seed, service, seed,
    ceiling), and its halves are pooled (A-B-A). A shared host whose speed
    drifts by a quarter within minutes then moves both sides of a ratio
    alike; measured minutes apart, the drift alone passed or failed a target.
    """

    def run(base: str, seconds: float) -> LoadResult:
        return run_wrk(base, script, connections=conns, seconds=seconds, args=args)

    half = plan.seconds / 2
    before = [run(base, half) for base in baselines]
    load = run(service, plan.seconds)
    after = [run(base, half) for base in reversed(baselines)][::-1]
    return load, [pooled(pair) for pair in zip(before, after, strict=True)]


def against_ceiling(
    scenario: str,
    base: str,
    ceiling: Ceiling,
    conns: int,
    plan: Plan,
    *,
    minimum: float,
    args: dict[str, str] | None = None,
) -> tuple[Row, Row]:
    """The ceiling's row and the service's, its ratio to the ceiling the target."""
    load, (ceiling_load,) = bracketed(
        base, [ceiling.url], ceiling.script, conns, plan, args
    )
    row = Row.from_load(scenario, conns, load)
    ratio_target(row, load, ceiling_load, minimum=minimum)
    return Row.from_load(ceiling.label, conns, ceiling_load), row


def read_one(base: str, ceiling: Ceiling, conns: int, plan: Plan) -> list[Row]:
    ceiling_row, row = against_ceiling(
        "read-one", base, ceiling, conns, plan, minimum=0.8
    )
    if conns >= 256:
        tail_target(row, extra_ok=bool(row.passed))
    return [ceiling_row, row]


def read_order(
    base: str, ceiling: Ceiling, conns: int, plan: Plan, args: dict[str, str]
) -> list[Row]:
    """Authenticated GET of the caller's own order (issue 21: >= 0.7x ceiling)."""
    return list(
        against_ceiling(
            "read-order", base, ceiling, conns, plan, minimum=0.7, args=args
        )
    )


# --- read-one-cold (issue 21) -----------------------------------------------
# A freshly started server gets this much load before read-one-cold is measured.
COLD_WARMUP_S = 3
# The cache-miss path must be lean too: a share of the same run's read ceiling.
COLD_MIN_RATIO = 0.6


def cold_warm_up(base: str) -> None:
    """Open the connection pools and prepare statements; fill little of a cache."""
    run_wrk(base, "read_one.lua", connections=64, seconds=COLD_WARMUP_S)
    print(f"  warmed up for {COLD_WARMUP_S} s only (cold)", flush=True)


def read_one_cold(
    base: str, ceiling: Ceiling, conns: int, plan: Plan, *, scenario: str
) -> list[Row]:
    return list(
        against_ceiling(scenario, base, ceiling, conns, plan, minimum=COLD_MIN_RATIO)
    )


# -----------------------------------------------------------------------------
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


# --- login-storm (issue 21: robust, not looser) ------------------------------
# The probe's idle and storm windows alternate in rounds, so that a noisier
# moment of the shared host falls on both sides alike, and idle is measured on
# the same server state as the storm (after one, with its hashing threads).
# After a storm, the logins still in flight finish before idle is probed.
STORM_SETTLE_S = 2.0
# The storm's first and last second are ramps, not measured.
STORM_RAMP_S = 1.0


async def _storm(
    base: str, seconds: float, files: Files
) -> tuple[list[float], LoadResult]:
    """Probe for `seconds` while 50 logins stay in flight, past both ramps."""
    args = {"users": str(files.usernames), "password": "Bench-Password-1"}
    storm = asyncio.create_task(
        asyncio.to_thread(
            run_wrk,
            base,
            "login.lua",
            connections=LOGIN_STORM_CONNS,
            seconds=seconds + 2 * STORM_RAMP_S,
            args=args,
        )
    )
    await asyncio.sleep(STORM_RAMP_S)  # let the storm build before measuring
    during = await _probe(base, seconds)
    return during, await storm


def _probe_seconds(plan: Plan) -> float:
    """One round's probe window, idle and during the storm alike.

    Equal windows give the two p99s equal sample counts (a shorter idle window
    made its p99 swing with a handful of samples); all rounds together probe
    each side for the storm's length less its two ramps, as one window did.
    """
    return (plan.seconds - 2 * STORM_RAMP_S) / plan.login_rounds


def login_storm(base: str, plan: Plan, files: Files) -> list[Row]:
    window = _probe_seconds(plan)
    idle: list[list[float]] = []
    during: list[list[float]] = []
    logins: list[LoadResult] = []
    for round_ in range(plan.login_rounds):
        if round_:
            time.sleep(STORM_SETTLE_S)
        idle.append(asyncio.run(_probe(base, window)))
        probed, load = asyncio.run(_storm(base, window, files))
        during.append(probed)
        logins.append(load)
    return login_storm_rows(idle, during, logins)


def login_storm_rows(
    idle: list[list[float]], during: list[list[float]], logins: list[LoadResult]
) -> list[Row]:
    """The storm's row and the probe's, judged on the median round.

    Each round's ratio compares a storm with the idle window just before it;
    the median of the rounds' ratios is the verdict. A burst of other work on
    the host inflates one window's p99, so one round's ratio, either way: the
    median discards it, where a pooled p99 would carry it into the verdict.
    The pooled p99s are kept in the JSON beside it.
    """
    ratios = [
        percentile(sorted(storm), 99) / idle_p99
        for quiet, storm in zip(idle, during, strict=True)
        if (idle_p99 := percentile(sorted(quiet), 99))
    ]
    ratio = statistics.median(ratios) if len(ratios) == len(idle) else None
    pooled_idle = sorted(sample for window in idle for sample in window)
    pooled_during = sorted(sample for window in during for sample in window)
    probe = Row(
        "login-storm /health probe",
        1,
        None,
        percentile(pooled_during, 50),
        percentile(pooled_during, 99),
        0,
        ratio=ratio,
        target="p99 during <=3x idle (median round)",
        passed=ratio is not None and ratio <= 3,
        extra={
            "idle_p50_ms": percentile(pooled_idle, 50),
            "idle_p99_ms": percentile(pooled_idle, 99),
            "idle_samples": len(pooled_idle),
            "during_samples": len(pooled_during),
            "round_idle_p99_ms": [percentile(sorted(w), 99) for w in idle],
            "round_during_p99_ms": [percentile(sorted(w), 99) for w in during],
            "round_ratios": ratios,
        },
    )
    storm = Row.from_load("login-storm logins", LOGIN_STORM_CONNS, pooled(logins))
    return [storm, probe]
