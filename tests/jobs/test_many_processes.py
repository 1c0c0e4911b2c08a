"""Two servers and a worker on one PostgreSQL: every job once, every period once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.jobs.conftest import JobTable, MakeUrl, StartServer, Worker, job_app_command
from tests.support.job_kinds import lines

pytestmark = pytest.mark.e2e
JOBS = 1000
TICK_PERIOD = 3
TICKS = 4


async def test_a_thousand_jobs_run_once_each_and_a_periodic_job_once_per_period(
    fresh_database_url: MakeUrl,
    live_server: StartServer,
    worker: Callable[..., Worker],
    jobs_on: Callable[[str], Awaitable[JobTable]],
    tmp_path: Path,
) -> None:
    url = await fresh_database_url("postgresql")
    effect, ticks = tmp_path / "effect.txt", tmp_path / "ticks.txt"
    env = {"TEST_TICK_FILE": str(ticks), "TEST_TICK_PERIOD": str(TICK_PERIOD)}
    live_server(url, command=job_app_command(), env=env)
    live_server(url, command=job_app_command(), env=env)
    worker(url, env=env)
    table = await jobs_on(url)
    await table.enqueue(
        "test_append", [{"path": str(effect), "line": str(n)} for n in range(JOBS)]
    )
    jobs = await table.wait_for(
        lambda jobs: (
            len(jobs) == JOBS and all(job.state == "succeeded" for job in jobs)
        ),
        kind="test_append",
        within=180,
        why="for every job to succeed",
    )
    assert {job.attempts for job in jobs} == {1}
    assert Counter(lines(effect)) == Counter(str(n) for n in range(JOBS))

    tick_jobs = await table.wait_for(
        lambda jobs: sum(job.state == "succeeded" for job in jobs) >= TICKS,
        kind="test_tick",
        within=TICK_PERIOD * TICKS * 10,
        why="for several periods",
    )
    done = [job for job in tick_jobs if job.state == "succeeded"]
    periods = sorted(int((job.dedupe_key or "").split("@")[1]) for job in tick_jobs)
    # One job per period, whichever of the three processes enqueued it ...
    assert len(periods) == len(set(periods))
    # ... for every period since the first (none skipped) ...
    assert periods == list(range(periods[0], periods[0] + len(periods)))
    # ... and each ran once.
    assert {job.attempts for job in done} == {1}
    ran = Counter(lines(ticks))
    assert all(ran[str(job.id)] == 1 for job in done)
    assert sum(ran.values()) <= len(tick_jobs)
