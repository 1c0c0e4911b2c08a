"""Job kinds for the job-queue tests: their effects are lines in a file.

A file, not a table, so the effect is outside the job's own bookkeeping: a
job that ran twice shows its line twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, insert, text, update

from backend.jobs import JobContext, JobFailed, job_kind
from backend.models import Job
from backend.models.base import utcnow

FAILING_ATTEMPTS = 3


class AppendLine(BaseModel):
    path: str
    line: str
    # Seconds to sleep first: long enough to kill or stop the process mid-way.
    sleep: float = 0.0


class FailingPayload(BaseModel):
    path: str


def append(path: str, line: str) -> None:
    with Path(path).open("a") as file:  # O_APPEND: one write per line
        file.write(line + "\n")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@job_kind("test_append", AppendLine, max_attempts=5, backoff=lambda _attempt: 0.5)
async def append_line(_context: JobContext, payload: AppendLine) -> None:
    """Sleep, then append the line: the effect happens only at the end."""
    await asyncio.sleep(payload.sleep)
    await asyncio.to_thread(append, payload.path, payload.line)


@job_kind(
    "test_fail",
    FailingPayload,
    max_attempts=FAILING_ATTEMPTS,
    backoff=lambda _attempt: 0.2,
)
async def always_fail(context: JobContext, payload: FailingPayload) -> None:
    """Record the attempt, then fail: retried, then dead."""
    await asyncio.to_thread(append, payload.path, f"attempt {context.run.attempt}")
    raise JobFailed("this kind always fails")


class FollowUp(BaseModel):
    # What the success write does: enqueue a `noop` follow-up job (a row that
    # must exist if and only if the run's success is recorded), or fail in
    # the database ("fail").
    write: str = "follow_up"
    # Lose the lease mid-run: another process "claims" the job meanwhile.
    lose_lease: bool = False
    # Finish together with this many runs (of one process): one batch.
    together: int = 0


_barriers: dict[int, asyncio.Barrier] = {}
# The follow-up `noop` job a success write enqueues, keyed by the run.
_FOLLOW_UP = insert(cast(Table, Job.__table__)).values(
    kind="noop",
    payload={},
    max_attempts=1,
    dedupe_key=bindparam("dedupe_key"),
    run_at=bindparam("run_at"),
)


@job_kind("test_on_success", FollowUp, max_attempts=1)
async def write_on_success(context: JobContext, payload: FollowUp) -> None:
    """Queue a write that rides on the transaction recording this run's success."""
    if payload.lose_lease:
        async with context.database.session() as session:
            await session.execute(
                update(Job)
                .where(Job.id == context.run.id)
                .values(locked_by="another-process")
            )

    if payload.write == "fail":
        context.on_success(text("INSERT INTO no_such_table VALUES (1)"), {})
    else:
        context.on_success(
            _FOLLOW_UP,
            {"dedupe_key": f"follow-up:{context.run.id}", "run_at": utcnow()},
        )
    if payload.together:
        await _barriers.setdefault(
            payload.together, asyncio.Barrier(payload.together)
        ).wait()
