"""Worker processes: a killed one's job runs again once, SIGTERM drains, failures die.

Each test runs `quart --app tests.support.job_app:app worker` or Hypercorn on
that app; the jobs' effects are lines in a file (tests/support/job_kinds.py).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.models import Job
from tests.jobs.conftest import (
    JobTable,
    MakeUrl,
    StartServer,
    Worker,
    job_app_command,
)
from tests.support.job_kinds import FAILING_ATTEMPTS, lines
from tests.support.live_data import LiveData
from tests.test_cli import quart

pytestmark = pytest.mark.e2e
BACKENDS = ["sqlite", "postgresql"]
JobsOn = Callable[[str], Awaitable[JobTable]]
StartWorker = Callable[..., Worker]
# The shortest lease the settings allow: a killed worker's job is free soon.
LEASE = {"JOB_LEASE": "5"}


def states(jobs: list[Job]) -> list[str]:
    return [job.state for job in jobs]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_killed_workers_job_runs_again_after_the_lease_with_one_effect(
    fresh_database_url: MakeUrl,
    jobs_on: JobsOn,
    worker: StartWorker,
    tmp_path: Path,
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    table = await jobs_on(url)
    effect = tmp_path / "effect.txt"
    first = worker(url, env=LEASE)
    await table.enqueue(
        "test_append", [{"path": str(effect), "line": "only-once", "sleep": 4}]
    )
    await table.wait_for(
        lambda jobs: (
            jobs[0].state == "running" and f":{first.pid}:" in (jobs[0].locked_by or "")
        ),
        why="for the first worker to claim the job",
    )
    assert first.process is not None
    first.process.send_signal(signal.SIGKILL)  # in the middle of its sleep
    first.process.wait()
    assert lines(effect) == []
    second = worker(url, env=LEASE)
    [job] = await table.wait_for(
        lambda jobs: states(jobs) == ["succeeded"],
        kind="test_append",
        why="for the second attempt",
    )
    assert job.attempts == 2
    assert lines(effect) == ["only-once"], second.logs()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("process", ["worker", "server"])
async def test_sigterm_lets_short_jobs_finish_and_releases_the_rest(
    fresh_database_url: MakeUrl,
    live_server: StartServer,
    jobs_on: JobsOn,
    worker: StartWorker,
    tmp_path: Path,
    backend: str,
    process: str,
) -> None:
    url = await fresh_database_url(backend)
    table = await jobs_on(url)
    effect = tmp_path / "effect.txt"
    env = {"JOB_DRAIN_TIMEOUT": "8", "JOB_CONCURRENCY": "4"}
    if process == "worker":
        running: subprocess.Popen[bytes] | None = worker(url, env=env).process
    else:
        running = live_server(url, command=job_app_command(), env=env).process
    assert running is not None
    await table.enqueue(
        "test_append",
        # Two finish inside the drain timeout; two would take far longer.
        [{"path": str(effect), "line": f"short-{n}", "sleep": 1} for n in (1, 2)]
        + [{"path": str(effect), "line": f"long-{n}", "sleep": 600} for n in (1, 2)],
    )
    await table.wait_for(
        lambda jobs: states(jobs) == ["running"] * 4,
        kind="test_append",
        why="for all four to run",
    )
    running.send_signal(signal.SIGTERM)
    # Well before the long jobs could end: the drain timeout bounded the wait.
    assert running.wait(timeout=60) == 0
    jobs = await table.all("test_append")
    assert [(job.state, job.attempts) for job in jobs] == [
        ("succeeded", 1),
        ("succeeded", 1),
        ("queued", 0),  # released: due again, the attempt not spent
        ("queued", 0),
    ]
    assert all(job.locked_by is None for job in jobs[2:])
    assert sorted(lines(effect)) == ["short-1", "short-2"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_failing_job_is_retried_then_dead_retryable_and_the_loop_goes_on(
    fresh_database_url: MakeUrl,
    live_server: StartServer,
    jobs_on: JobsOn,
    tmp_path: Path,
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    table = await jobs_on(url)
    attempts, effect = tmp_path / "attempts.txt", tmp_path / "effect.txt"
    server = live_server(url, command=job_app_command())
    async with LiveData(url) as data:
        admin = await data.user(is_admin=True)
    await table.enqueue("test_fail", [{"path": str(attempts)}])
    [dead] = await table.wait_for(
        lambda jobs: states(jobs) == ["dead"], kind="test_fail", why="for death"
    )
    assert dead.attempts == FAILING_ATTEMPTS
    assert dead.last_error == "JobFailed: this kind always fails"
    assert dead.finished_at is not None
    assert lines(attempts) == [f"attempt {n}" for n in (1, 2, 3)]
    # The same process still runs jobs.
    await table.enqueue("test_append", [{"path": str(effect), "line": "after"}])
    await table.wait_for(
        lambda jobs: states(jobs) == ["succeeded"], kind="test_append", why="alive"
    )
    assert lines(effect) == ["after"]

    async with httpx.AsyncClient(
        base_url=server.base_url, headers=admin.headers
    ) as http:
        retried = await http.post(f"/api/v1/admin/jobs/{dead.id}/retry")
        assert retried.status_code == 200, retried.text
        body: dict[str, Any] = retried.json()
        assert (body["state"], body["attempts"]) == ("queued", 0)
        await table.wait_for(
            lambda jobs: states(jobs) == ["dead"] and jobs[0].attempts == 3,
            kind="test_fail",
            why="for the retried job to die again",
        )
        assert len(lines(attempts)) == 2 * FAILING_ATTEMPTS
        done = (await table.all("test_append"))[0]
        refused = await http.post(f"/api/v1/admin/jobs/{done.id}/retry")
        assert refused.status_code == 409
        assert refused.json()["code"] == "job_not_dead"

    counted = quart(url, "jobs")
    assert counted.returncode == 0, counted.stderr
    rows = {tuple(line.split()) for line in counted.stdout.splitlines()[1:]}
    assert {("test_fail", "dead", "1"), ("test_append", "succeeded", "1")} <= rows
    requeued = quart(url, "jobs", "retry", "--dead")
    assert requeued.returncode == 0, requeued.stderr
    assert "Re-queued 1 dead jobs." in requeued.stdout
    await table.wait_for(
        lambda jobs: states(jobs) == ["dead"] and len(lines(attempts)) == 9,
        kind="test_fail",
        why="for the job re-queued by the CLI to run again",
    )
