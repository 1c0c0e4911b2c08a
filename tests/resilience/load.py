"""Load generation and outcome checks shared by the fault scenarios."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

# Words that would mean a driver or a stack trace leaked into a response.
LEAK_MARKERS = ("asyncpg", "sqlalchemy", "psycopg", "traceback", "errno", "select ")


@dataclass(frozen=True)
class Outcome:
    status: int  # 0 when the connection failed without any response
    seconds: float
    content_type: str
    body: str


async def timed(send: Awaitable[httpx.Response]) -> Outcome:
    started = time.monotonic()
    try:
        response = await send
    except httpx.TransportError as error:
        sent = error.request
        what = f"{type(error).__name__}: {error} ({sent.method} {sent.url.path})"
        return Outcome(0, time.monotonic() - started, "", what)
    return Outcome(
        response.status_code,
        time.monotonic() - started,
        response.headers.get("content-type", ""),
        response.text,
    )


async def hammer(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    until: asyncio.Event,
    concurrency: int = 8,
) -> list[Outcome]:
    """Send requests from `concurrency` loops until `until` is set."""
    outcomes: list[Outcome] = []

    async def loop() -> None:
        while not until.is_set():
            outcomes.append(await timed(send()))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return outcomes


def error_problems(outcomes: list[Outcome], *, allowed: set[int]) -> list[str]:
    """Why any outcome is not an allowed status or not a clean problem document."""
    problems = []
    for outcome in outcomes:
        if outcome.status not in allowed:
            problems.append(f"status {outcome.status}: {outcome.body[:200]}")
        elif outcome.status >= 400 and not is_clean_problem(outcome):
            problems.append(f"unclean {outcome.status}: {outcome.body[:200]}")
    return problems


def is_clean_problem(outcome: Outcome) -> bool:
    lowered = outcome.body.lower()
    return outcome.content_type.startswith("application/problem+json") and not any(
        marker in lowered for marker in LEAK_MARKERS
    )
