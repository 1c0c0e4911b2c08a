"""The job table's verbs: enqueue in the caller's transaction, claim, finish.

Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING` statement: on PostgreSQL concurrent claimers skip each other's rows
instead of waiting; on SQLite the write session's `BEGIN IMMEDIATE` already
serialises claimers, and the clause is left out. Every later write to a job
is fenced by `(locked_by, attempts)`, so a process whose lease ran out cannot
overwrite the outcome of the process that claimed the job after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.commit_hooks import after_commit
from backend.jobs import wakeup
from backend.jobs.registry import get_kind
from backend.models import Job
from backend.models.base import utcnow

NOTIFY_CHANNEL = "job_queue"
_JOBS = cast(Table, Job.__table__)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: BaseModel | Mapping[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Add a job to the session's transaction: it exists if and only if that commits.

    An unknown kind or a payload its model refuses raises at once (a
    programming error, never a job that can only fail). With `dedupe_key`, a
    job already holding that key (in any state) makes this a no-op.
    """
    job_kind = get_kind(kind)
    model = job_kind.payload.model_validate(
        payload.model_dump() if isinstance(payload, BaseModel) else payload
    )
    now = utcnow()
    values = {
        "kind": kind,
        "payload": model.model_dump(mode="json"),
        "state": "queued",
        "attempts": 0,
        "max_attempts": job_kind.max_attempts,
        "run_at": run_at or now,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "updated_at": now,
    }
    await session.execute(_insert_statement(session), values)
    after_commit(session, wakeup.wake_local_workers)


def _insert_statement(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return _POSTGRES_INSERT
    return _SQLITE_INSERT


_FIELDS = (
    "kind",
    "payload",
    "state",
    "attempts",
    "max_attempts",
    "run_at",
    "dedupe_key",
    "created_at",
    "updated_at",
)


def _postgres_insert() -> Any:
    """Insert (a taken dedupe key does nothing) and NOTIFY, in one statement.

    Enqueueing costs one round trip; PostgreSQL delivers the NOTIFY when, and
    only if, the transaction commits.
    """
    inserted = (
        postgresql.insert(_JOBS)
        .values({name: bindparam(name, type_=_JOBS.c[name].type) for name in _FIELDS})
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(_JOBS.c.id)
        .cte("inserted")
    )
    return select(
        func.pg_notify(NOTIFY_CHANNEL, sa_cast(inserted.c.id, Text))
    ).select_from(inserted)


# Built once; each enqueue only binds its values.
_POSTGRES_INSERT = _postgres_insert()
_SQLITE_INSERT = sqlite.insert(_JOBS).on_conflict_do_nothing(
    index_elements=["dedupe_key"]
)


def _claimable(now: datetime) -> ColumnElement[bool]:
    due = and_(_JOBS.c.state == "queued", _JOBS.c.run_at <= now)
    abandoned = and_(_JOBS.c.state == "running", _JOBS.c.locked_until < now)
    return or_(due, abandoned)


async def any_claimable(session: AsyncSession) -> bool:
    """A cheap read before taking a write lock for a claim that finds nothing."""
    found = await session.scalar(
        select(literal(1)).where(_claimable(utcnow())).limit(1)
    )
    return found is not None


async def claim(
    session: AsyncSession, *, worker: str, limit: int, lease: float
) -> Sequence[Job]:
    """Lease up to `limit` due jobs to `worker`, oldest due first."""
    now = utcnow()
    chosen = (
        select(_JOBS.c.id)
        .where(_claimable(now))
        .order_by(_JOBS.c.run_at, _JOBS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Job)
        .where(Job.id.in_(chosen.scalar_subquery()))
        .values(
            state="running",
            attempts=Job.attempts + 1,
            locked_by=worker,
            locked_until=now + timedelta(seconds=lease),
            updated_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(statement)).all()


def _fenced(job_id: int, worker: str, attempt: int) -> ColumnElement[bool]:
    return and_(
        Job.id == job_id,
        Job.state == "running",
        Job.locked_by == worker,
        Job.attempts == attempt,
    )


async def mark_succeeded(
    session: AsyncSession, *, job_id: int, worker: str, attempt: int
) -> None:
    now = utcnow()
    await session.execute(
        update(Job)
        .where(_fenced(job_id, worker, attempt))
        .values(
            state="succeeded",
            locked_by=None,
            locked_until=None,
            last_error=None,
            finished_at=now,
            updated_at=now,
        )
    )


async def mark_failed(
    session: AsyncSession,
    *,
    job_id: int,
    worker: str,
    attempt: int,
    error: str,
    retry_in: float | None,
) -> None:
    """Queue the job again after `retry_in` seconds, or make it `dead` (None)."""
    now = utcnow()
    outcome: dict[str, Any] = (
        {"state": "dead", "finished_at": now}
        if retry_in is None
        else {"state": "queued", "run_at": now + timedelta(seconds=retry_in)}
    )
    await session.execute(
        update(Job)
        .where(_fenced(job_id, worker, attempt))
        .values(
            locked_by=None,
            locked_until=None,
            last_error=error,
            updated_at=now,
            **outcome,
        )
    )


async def release(session: AsyncSession, *, worker: str, job_ids: list[int]) -> None:
    """Give unfinished jobs back (draining): due at once, the attempt not spent."""
    if not job_ids:
        return
    now = utcnow()
    await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.state == "running", Job.locked_by == worker)
        .values(
            state="queued",
            attempts=Job.attempts - 1,
            locked_by=None,
            locked_until=None,
            run_at=now,
            updated_at=now,
        )
    )


async def extend_leases(session: AsyncSession, *, worker: str, lease: float) -> None:
    """Keep the running jobs of a live process from looking abandoned."""
    now = utcnow()
    await session.execute(
        update(Job)
        .where(Job.state == "running", Job.locked_by == worker)
        .values(locked_until=now + timedelta(seconds=lease))
    )
