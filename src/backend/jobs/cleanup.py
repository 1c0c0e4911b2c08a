"""Retention: the periodic clean-up of rows nobody can use any more.

Each rule deletes in batches, one short transaction per batch, so a large
backlog never holds locks (or SQLite's write lock) for long. Deleting is
idempotent: a clean-up that runs twice deletes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from backend.db.database import Database
from backend.jobs import periodic
from backend.jobs.context import JobContext
from backend.jobs.registry import job_kind
from backend.models import (
    AuthSession,
    IdempotencyKey,
    Job,
    OrderEvent,
    RefreshToken,
    RetentionMark,
)
from backend.models.base import utcnow

BATCH_SIZE = 1000
# A rule deletes one batch and says how many rows went.
Rule = Callable[[AsyncSession, JobContext, datetime], Awaitable[int]]


class NoPayload(BaseModel):
    """Periodic jobs carry nothing: what to do follows from the clock."""


async def _delete_batch(
    session: AsyncSession, key: InstrumentedAttribute[Any], condition: Any
) -> int:
    """Delete up to a batch of the rows of `key`'s table matching `condition`."""
    ids = select(key).where(condition).limit(BATCH_SIZE)
    found = list((await session.scalars(ids)).all())
    if found:
        await session.execute(delete(key.class_).where(key.in_(found)))
    return len(found)


async def expired_refresh_tokens(
    session: AsyncSession, _context: JobContext, now: datetime
) -> int:
    return await _delete_batch(session, RefreshToken.jti, RefreshToken.expires_at < now)


async def expired_login_sessions(
    session: AsyncSession, _context: JobContext, now: datetime
) -> int:
    # Their refresh tokens go with them (ON DELETE CASCADE).
    return await _delete_batch(session, AuthSession.id, AuthSession.expires_at < now)


async def expired_idempotency_keys(
    session: AsyncSession, _context: JobContext, now: datetime
) -> int:
    return await _delete_batch(
        session, IdempotencyKey.id, IdempotencyKey.expires_at < now
    )


async def old_order_events(
    session: AsyncSession, context: JobContext, now: datetime
) -> int:
    """Events past `EVENT_RETENTION`; the highest deleted id is remembered.

    The mark is what makes an older cursor `410 cursor_expired` rather than a
    silent gap. It is raised in the same transaction as the delete.
    """
    cutoff = now - timedelta(seconds=context.settings.event_retention)
    ids = (
        select(OrderEvent.id)
        .where(OrderEvent.occurred_at < cutoff)
        .order_by(OrderEvent.id)
        .limit(BATCH_SIZE)
    )
    found = list((await session.scalars(ids)).all())
    if not found:
        return 0
    await session.execute(delete(OrderEvent).where(OrderEvent.id.in_(found)))
    await raise_retention_mark(session, "order_event", max(found))
    return len(found)


async def raise_retention_mark(session: AsyncSession, table: str, through: int) -> None:
    """Remember that rows of `table` up to id `through` were deleted."""
    values = {"table_name": table, "deleted_through": through}
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(RetentionMark).values(values)
        greater = func.greatest(
            pg.excluded.deleted_through, RetentionMark.deleted_through
        )
        statement: Any = pg.on_conflict_do_update(
            index_elements=["table_name"], set_={"deleted_through": greater}
        )
    else:
        lite = sqlite.insert(RetentionMark).values(values)
        greater = func.max(lite.excluded.deleted_through, RetentionMark.deleted_through)
        statement = lite.on_conflict_do_update(
            index_elements=["table_name"], set_={"deleted_through": greater}
        )
    await session.execute(statement)


async def finished_jobs(
    session: AsyncSession, context: JobContext, now: datetime
) -> int:
    cutoff = now - timedelta(seconds=context.settings.job_retention)
    return await _delete_batch(
        session,
        Job.id,
        and_(Job.state.in_(("succeeded", "dead")), Job.finished_at < cutoff),
    )


RULES: list[Rule] = [
    expired_refresh_tokens,
    expired_login_sessions,
    expired_idempotency_keys,
    old_order_events,
    finished_jobs,
]


def add_rule(rule: Rule) -> None:
    """Another domain's clean-up (reset tokens, say), run with the others."""
    RULES.append(rule)


async def run_rules(database: Database, context: JobContext) -> int:
    now = utcnow()
    total = 0
    for rule in RULES:
        while True:
            async with database.session() as session:
                deleted = await rule(session, context, now)
            total += deleted
            if deleted < BATCH_SIZE:
                break
    return total


@job_kind("cleanup", NoPayload, max_attempts=3)
async def cleanup(context: JobContext, _payload: NoPayload) -> None:
    """Delete what retention no longer keeps."""
    await run_rules(context.database, context)


periodic.every("cleanup", "cleanup", lambda settings: settings.cleanup_interval)
