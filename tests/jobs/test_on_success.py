"""Writes on success: they commit with the run's recorded success, or not at all.

An in-process runner on a real database (each backend) runs `test_on_success`
jobs, whose success write enqueues a follow-up `noop` job keyed by the run.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from backend.db.database import Database
from backend.jobs.runner import JobRunner
from backend.mail import LoggingSender
from backend.models import Job
from tests.jobs.conftest import JobTable, MakeUrl
from tests.support import job_kinds  # noqa: F401 - registers the test kinds
from tests.support.live_data import live_settings


@dataclass
class Queue:
    """A job table, and a runner that starts once the test has enqueued."""

    table: JobTable
    runner: JobRunner


@pytest.fixture(params=["sqlite", "postgresql"])
async def job_queue(
    request: pytest.FixtureRequest, fresh_database_url: MakeUrl
) -> AsyncIterator[Queue]:
    url = await fresh_database_url(request.param)
    settings = live_settings(url)
    database = Database(settings)
    await database.connect()
    runner = JobRunner(database, settings, LoggingSender())
    yield Queue(JobTable(database), runner)
    await runner.drain(5.0)
    await database.dispose()


async def run(queue: Queue, payloads: list[dict[str, object]]) -> list[Job]:
    table = queue.table
    await table.enqueue("test_on_success", payloads)
    await queue.runner.start()
    return await table.wait_for(
        lambda jobs: all(
            job.state == "succeeded" or job.locked_by == "another-process"
            for job in jobs
        ),
        kind="test_on_success",
        within=30,
    )


async def follow_ups(queue: Queue) -> list[str | None]:
    async with queue.table.database.session(readonly=True) as session:
        keys = await session.scalars(
            select(Job.dedupe_key).where(Job.kind == "noop").order_by(Job.id)
        )
        return list(keys)


async def test_the_write_commits_with_the_recorded_success(job_queue: Queue) -> None:
    jobs = await run(job_queue, [{}, {}, {}])
    assert [job.state for job in jobs] == ["succeeded"] * 3
    assert await follow_ups(job_queue) == [f"follow-up:{job.id}" for job in jobs]


async def test_a_batch_of_runs_with_one_statement_writes_every_row(
    job_queue: Queue,
) -> None:
    # Recorded in one transaction: one execution with the three runs' values.
    jobs = await run(job_queue, [{"together": 3}] * 3)
    assert [job.state for job in jobs] == ["succeeded"] * 3
    assert sorted(map(str, await follow_ups(job_queue))) == sorted(
        f"follow-up:{job.id}" for job in jobs
    )


async def test_no_write_for_a_run_whose_lease_was_lost(job_queue: Queue) -> None:
    lost, kept = await run(job_queue, [{"lose_lease": True}, {}])
    # The lost run's success is not recorded (the job stays with the process
    # that took it), and so neither is its write; the other run's is.
    assert (lost.state, lost.locked_by) == ("running", "another-process")
    assert kept.state == "succeeded"
    assert await follow_ups(job_queue) == [f"follow-up:{kept.id}"]


async def test_a_failing_write_is_dropped_and_the_others_still_commit(
    job_queue: Queue, caplog: pytest.LogCaptureFixture
) -> None:
    # The three finish together, so their successes are recorded in one
    # transaction: the failing write must not take the others down with it.
    payloads: list[dict[str, object]] = [
        {"together": 3},
        {"together": 3, "write": "fail"},
        {"together": 3},
    ]
    with caplog.at_level(logging.WARNING, logger="backend.jobs.runner"):
        jobs = await run(job_queue, payloads)
    assert [job.state for job in jobs] == ["succeeded"] * 3
    assert sorted(map(str, await follow_ups(job_queue))) == sorted(
        [f"follow-up:{jobs[0].id}", f"follow-up:{jobs[2].id}"]
    )
    assert f"job {jobs[1].id}'s write on success failed; dropped" in caplog.text
