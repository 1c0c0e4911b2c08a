"""The job table's verbs: enqueue in the caller's transaction, claim, finish.

Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING` statement: on PostgreSQL concurrent claimers skip each other's rows
instead of waiting; on SQLite the write session's `BEGIN IMMEDIATE` already
serialises claimers, and the clause is left out. Every later write to a job
is fenced by `(locked_by, attempts)`, so a process whose lease ran out cannot
overwrite the outcome of the process that claimed the job after it.

The runner's own bookkeeping (claims, outcomes, leases) commits without
waiting for the disk on PostgreSQL (`relax_durability`); see there why that
loses nothing the queue promises.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple, cast

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
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
    max_attempts: int | None = None,
    concurrency_key: str | None = None,
) -> None:
    """Add a job to the session's transaction: it exists if and only if that commits.

    An unknown kind or a payload its model refuses raises at once (a
    programming error, never a job that can only fail). With `dedupe_key`, a
    job already holding that key (in any state) makes this a no-op.
    `max_attempts` overrides the kind's (a limit read from the settings).
    `concurrency_key` groups jobs that the kind's `concurrency_limit` bounds.
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
        "max_attempts": max_attempts or job_kind.max_attempts,
        "run_at": run_at or now,
        "dedupe_key": dedupe_key,
        "concurrency_key": concurrency_key,
        "created_at": now,
        "updated_at": now,
    }
    await session.execute(_insert_statement(session), values)
    after_commit(session, wakeup.wake_local_workers)


async def enqueue_many(
    session: AsyncSession,
    kind: str,
    jobs: Sequence[tuple[BaseModel, str | None]],
    *,
    max_attempts: int | None = None,
    concurrency_key: str | None = None,
) -> None:
    """`enqueue` for many (payload, dedupe key) pairs of one kind, at once.

    One executemany (pipelined by asyncpg) and one NOTIFY instead of a round
    trip and a NOTIFY per job: a dispatcher's batch of events costs little.
    """
    if not jobs:
        return
    job_kind = get_kind(kind)
    now = utcnow()
    rows = [
        {
            "kind": kind,
            "payload": job_kind.payload.model_validate(payload.model_dump()).model_dump(
                mode="json"
            ),
            "state": "queued",
            "attempts": 0,
            "max_attempts": max_attempts or job_kind.max_attempts,
            "run_at": now,
            "dedupe_key": dedupe_key,
            "concurrency_key": concurrency_key,
            "created_at": now,
            "updated_at": now,
        }
        for payload, dedupe_key in jobs
    ]
    postgres = session.get_bind().dialect.name == "postgresql"
    await session.execute(_POSTGRES_INSERT_MANY if postgres else _SQLITE_INSERT, rows)
    if postgres:
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, kind)))
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
    "concurrency_key",
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
_POSTGRES_INSERT_MANY = postgresql.insert(_JOBS).on_conflict_do_nothing(
    index_elements=["dedupe_key"]
)


# The claim's statements are built once per shape (with or without full
# concurrency keys) and bound per call: the runner claims many times a second,
# and building them was a tenth of a busy worker's CPU.
_NOW = bindparam("now", type_=_JOBS.c.run_at.type)
_DUE = and_(_JOBS.c.state == "queued", _JOBS.c.run_at <= _NOW)
_ABANDONED = and_(_JOBS.c.state == "running", _JOBS.c.locked_until < _NOW)


def _runnable(with_full_keys: bool) -> ColumnElement[bool]:
    """Of a kind this process runs (`kinds`), and of no full key (`full_keys`)."""
    # Only kinds this process can run: during a rolling deploy an older
    # process must leave a new kind's jobs to the processes that know it,
    # rather than claim them and find no handler.
    runnable = _JOBS.c.kind.in_(bindparam("kinds", expanding=True))
    if not with_full_keys:
        return runnable
    room = or_(
        _JOBS.c.concurrency_key.is_(None),
        _JOBS.c.concurrency_key.not_in(bindparam("full_keys", expanding=True)),
    )
    return and_(runnable, room)


def _runnable_params(
    kinds: Sequence[str], full_keys: Collection[str]
) -> dict[str, Any]:
    return {"kinds": list(kinds), "full_keys": sorted(full_keys), "now": utcnow()}


@cache
def _any_claimable(with_full_keys: bool) -> Select[Any]:
    claimable = and_(or_(_DUE, _ABANDONED), _runnable(with_full_keys))
    return select(literal(1)).where(claimable).limit(1)


async def any_claimable(
    session: AsyncSession,
    *,
    kinds: Sequence[str],
    full_keys: Collection[str] = (),
) -> bool:
    """A cheap read before taking a write lock for a claim that finds nothing."""
    found = await session.scalar(
        _any_claimable(bool(full_keys)), _runnable_params(kinds, full_keys)
    )
    return found is not None


class ClaimedJob(NamedTuple):
    """What a runner needs of a job it claimed."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime
    concurrency_key: str | None


_CLAIMED = tuple(_JOBS.c[name] for name in ClaimedJob._fields)
# Asynchronous commit, for this transaction only.
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


async def relax_durability(session: AsyncSession) -> None:
    """Let this transaction commit without waiting for its WAL flush (PostgreSQL).

    Only for the runner's bookkeeping: a claim, recorded outcomes (with their
    `on_success` writes), released jobs, extended leases. What PostgreSQL
    could lose on a crash of its own is the last fraction of a second of
    those, and each loss leaves a job to be run again: at least once, which
    every handler already allows for. A job's existence, enqueued in its
    cause's transaction, is never relaxed. The flush wait is most of a short
    transaction's time, and under a commit-ordered order-event lock
    (`order_event_writes.py`) every extra flush delays orders behind it.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_ASYNC_COMMIT)


@cache
def _claim(with_full_keys: bool) -> Any:
    runnable = _runnable(with_full_keys)

    def oldest(condition: ColumnElement[bool], name: str) -> Any:
        # Apart, each walks the (state, run_at) index in order and stops at
        # `limit`; one OR of the two sorted every due job on every claim.
        return (
            select(_JOBS.c.id)
            .where(condition, runnable)
            .order_by(_JOBS.c.run_at, _JOBS.c.id)
            .limit(bindparam("limit", type_=Integer))
            .with_for_update(skip_locked=True)
            .cte(name)
        )

    due, abandoned = oldest(_DUE, "due"), oldest(_ABANDONED, "abandoned")
    return (
        update(_JOBS)
        .where(_JOBS.c.id.in_(union_all(select(due.c.id), select(abandoned.c.id))))
        .values(
            state="running",
            attempts=_JOBS.c.attempts + 1,
            locked_by=bindparam("worker"),
            locked_until=bindparam("lease_until"),
            updated_at=_NOW,
        )
        .returning(*_CLAIMED)
    )


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    limit: int,
    lease: float,
    kinds: Sequence[str],
    full_keys: Collection[str] = (),
) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs of `kinds` to `worker`; the oldest due first.

    Jobs whose `concurrency_key` is in `full_keys` (the worker runs as many
    of them as their kind allows) are left for later or for other workers.
    """
    params = _runnable_params(kinds, full_keys)
    params |= {
        "limit": limit,
        "worker": worker,
        "lease_until": params["now"] + timedelta(seconds=lease),
    }
    rows = await session.execute(_claim(bool(full_keys)), params)
    claimed = sorted(
        (ClaimedJob(*row) for row in rows), key=lambda job: (job.run_at, job.id)
    )
    # Both parts found jobs (abandoned ones are rare): keep the oldest.
    await release(session, worker=worker, job_ids=[job.id for job in claimed[limit:]])
    return claimed[:limit]


def _fenced(job_id: int, worker: str, attempt: int) -> ColumnElement[bool]:
    return and_(
        Job.id == job_id,
        Job.state == "running",
        Job.locked_by == worker,
        Job.attempts == attempt,
    )


async def mark_many_succeeded(
    session: AsyncSession, *, worker: str, runs: Sequence[tuple[int, int]]
) -> set[int]:
    """Record several `(job id, attempt)` runs of `worker` as succeeded at once.

    Returns the ids recorded: a run whose lease was lost (another process
    claimed the job again) is not among them.
    """
    if not runs:
        return set()
    recorded = await session.scalars(
        _MARK_SUCCEEDED, {"runs": list(runs), "worker": worker, "now": utcnow()}
    )
    return set(recorded)


_MARK_SUCCEEDED = (
    update(_JOBS)
    .where(
        tuple_(_JOBS.c.id, _JOBS.c.attempts).in_(bindparam("runs", expanding=True)),
        _JOBS.c.state == "running",
        _JOBS.c.locked_by == bindparam("worker"),
    )
    .values(
        state="succeeded",
        locked_by=None,
        locked_until=None,
        last_error=None,
        finished_at=_NOW,
        updated_at=_NOW,
    )
    .returning(_JOBS.c.id)
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
    """Give claimed jobs back unrun or unfinished, the attempt not spent.

    Draining releases the jobs it stopped; a claim releases at once the jobs
    beyond their concurrency key's limit. Each keeps its `run_at` (due, as
    it was claimed), so it keeps its place in the queue's order.
    """
    if not job_ids:
        return
    params = {"job_ids": job_ids, "worker": worker, "now": utcnow()}
    await session.execute(_RELEASE, params)


_RELEASE = (
    update(_JOBS)
    .where(
        _JOBS.c.id.in_(bindparam("job_ids", expanding=True)),
        _JOBS.c.state == "running",
        _JOBS.c.locked_by == bindparam("worker"),
    )
    .values(
        state="queued",
        attempts=_JOBS.c.attempts - 1,
        locked_by=None,
        locked_until=None,
        updated_at=_NOW,
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
