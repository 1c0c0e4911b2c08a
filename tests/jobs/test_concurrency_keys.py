"""Concurrency keys: a process runs at most a kind's limit of one key's jobs.

These run in one rolled-back transaction (the `app` fixture), so the runner's
loop is not started: the test drives its claims itself and lets each handler
finish when it says, one at a time (the jobs share the test's connection).
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel
from quart import Quart
from sqlalchemy import select

from backend import extensions
from backend.jobs import JobContext, enqueue, job_kind
from backend.jobs.runner import JobRunner
from backend.models import Job

KIND = "test_keyed"


class Step(BaseModel):
    n: int


@job_kind(KIND, Step, concurrency_limit=1)
async def _wait_for_gate(context: JobContext, payload: Step) -> None:
    gates: dict[int, asyncio.Event] = context.resources["gates"]
    await gates[payload.n].wait()


# The same handler, bounded to half the process's slots per key.
HALF_KIND = "test_keyed_half"
job_kind(HALF_KIND, Step, concurrency_limit=lambda slots: slots // 2)(_wait_for_gate)


async def _enqueue(app: Quart, keys: list[str | None], *, kind: str = KIND) -> None:
    async with extensions.database(app).session() as session:
        for n, key in enumerate(keys):
            await enqueue(session, kind, Step(n=n), concurrency_key=key)


async def _jobs(app: Quart, *, kind: str = KIND) -> dict[int, Job]:
    async with extensions.database(app).session(readonly=True) as session:
        rows = (await session.scalars(select(Job).where(Job.kind == kind))).all()
    return {job.payload["n"]: job for job in rows}


def _runner(app: Quart, slots: int = 4) -> JobRunner:
    runner: JobRunner = app.extensions["job_runner"]
    runner.concurrency = slots
    runner.resources["gates"] = {n: asyncio.Event() for n in range(8)}
    return runner


async def _finish(runner: JobRunner, app: Quart, n: int) -> None:
    job = (await _jobs(app))[n]
    task = runner._running[job.id]
    gates: dict[int, asyncio.Event] = runner.resources["gates"]  # type: ignore[assignment]
    gates[n].set()
    await task


async def test_a_claim_takes_one_job_per_full_key_and_releases_the_rest(
    app: Quart,
) -> None:
    await _enqueue(app, ["a", "a", "a", "b", None])
    before = await _jobs(app)
    runner = _runner(app)

    # Four slots: the oldest four are claimed; a's second and third go back.
    assert await runner._claim() == 2
    jobs = await _jobs(app)
    assert {n: job.state for n, job in jobs.items()} == {
        0: "running",
        1: "queued",
        2: "queued",
        3: "running",
        4: "queued",
    }
    for n in (1, 2):  # released unrun: no attempt spent, place kept
        assert jobs[n].attempts == 0
        assert jobs[n].locked_by is None
        assert jobs[n].run_at == before[n].run_at

    # Keys a and b are full here: only the job without a key can be claimed.
    assert await runner._claim() == 1
    assert (await _jobs(app))[4].state == "running"
    assert await runner._claim() == 0
    assert {job.state for n, job in (await _jobs(app)).items() if n < 3} == {
        "running",
        "queued",
    }

    # a's job finishes: the next of a's runs, the one after it waits again.
    await _finish(runner, app, 0)
    assert await runner._claim() == 1
    jobs = await _jobs(app)
    assert [jobs[n].state for n in range(3)] == ["succeeded", "running", "queued"]
    assert jobs[2].attempts == 0

    for n in (1, 3, 4):
        await _finish(runner, app, n)
    assert await runner._claim() == 1
    await _finish(runner, app, 2)
    assert await runner._claim() == 0  # records the successes, claims nothing
    assert {job.state for job in (await _jobs(app)).values()} == {"succeeded"}
    assert {job.attempts for job in (await _jobs(app)).values()} == {1}


@pytest.mark.parametrize(("slots", "per_key"), [(1, 1), (4, 2), (8, 4)])
async def test_a_limit_computed_from_the_slots_follows_the_process(
    app: Quart, slots: int, per_key: int
) -> None:
    await _enqueue(app, ["a"] * 8, kind=HALF_KIND)
    runner = _runner(app, slots)

    assert await runner._claim() == per_key
    states = [
        job.state for _, job in sorted((await _jobs(app, kind=HALF_KIND)).items())
    ]
    assert states == ["running"] * per_key + ["queued"] * (8 - per_key)
    assert await runner._claim() == 0  # the key is full, whatever slots are free
    for task in list(runner._running.values()):
        task.cancel()
    await asyncio.gather(*runner._running.values(), return_exceptions=True)
