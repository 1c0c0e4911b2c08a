"""Job kinds for the job-queue tests: their effects are lines in a file.

A file, not a table, so the effect is outside the job's own bookkeeping: a
job that ran twice shows its line twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel

from backend.jobs import JobContext, JobFailed, job_kind

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
