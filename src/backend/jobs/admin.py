"""What admins do with jobs: look at them, count them, retry the dead."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.commit_hooks import after_commit
from backend.errors import Conflict, NotFound
from backend.jobs import wakeup
from backend.models import Job
from backend.models.base import utcnow
from backend.services.pagination import PageResult, paginate


async def list_jobs(
    session: AsyncSession,
    *,
    page: int,
    per_page: int,
    state: str | None = None,
    kind: str | None = None,
) -> PageResult[Job]:
    """Newest first, optionally of one state and kind."""
    statement = select(Job).order_by(Job.id.desc())
    if state is not None:
        statement = statement.where(Job.state == state)
    if kind is not None:
        statement = statement.where(Job.kind == kind)
    return await paginate(session, statement, page=page, per_page=per_page)


async def get_job(session: AsyncSession, job_id: int) -> Job:
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound("No such job.")
    return job


async def retry_job(session: AsyncSession, job_id: int) -> Job:
    """Queue a dead job again, due now, with its attempts reset."""
    now = utcnow()
    retried = await session.scalar(
        update(Job)
        .where(Job.id == job_id, Job.state == "dead")
        .values(
            state="queued", attempts=0, run_at=now, finished_at=None, updated_at=now
        )
        .returning(Job)
        .execution_options(populate_existing=True)
    )
    if retried is None:
        await get_job(session, job_id)  # 404 when it does not exist
        raise Conflict("Only a dead job can be retried.", code="job_not_dead")
    after_commit(session, wakeup.wake_local_workers)
    return retried


async def retry_dead_jobs(session: AsyncSession) -> int:
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.state == "dead")
        .values(
            state="queued", attempts=0, run_at=now, finished_at=None, updated_at=now
        )
    )
    after_commit(session, wakeup.wake_local_workers)
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


async def count_jobs(session: AsyncSession) -> Sequence[tuple[str, str, int]]:
    """(kind, state, count) for every kind and state that has jobs."""
    rows = await session.execute(
        select(Job.kind, Job.state, func.count())
        .group_by(Job.kind, Job.state)
        .order_by(Job.kind, Job.state)
    )
    return [(kind, state, count) for kind, state, count in rows]
