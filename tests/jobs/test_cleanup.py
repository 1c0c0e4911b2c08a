"""Retention: the clean-up deletes what nobody can use any more, and nothing else."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from quart import Quart
from sqlalchemy import select

from backend import extensions
from backend.jobs import JobContext, JobRun, cleanup
from backend.models import (
    AuthSession,
    IdempotencyKey,
    Job,
    Order,
    OrderEvent,
    RefreshToken,
    RetentionMark,
)
from backend.models.base import utcnow
from tests.support.factories import make_user

DAY = timedelta(days=1)


async def test_cleanup_deletes_the_expired_and_the_old_and_keeps_the_rest(
    app: Quart,
) -> None:
    settings = extensions.settings(app)
    database = extensions.database(app)
    now = utcnow()
    old_event = now - timedelta(seconds=settings.event_retention) - DAY
    old_job = now - timedelta(seconds=settings.job_retention) - DAY
    async with database.session() as session:
        user = await make_user(session, app)
        sessions = {
            "gone": AuthSession(
                id=str(uuid.uuid4()), user_id=user.id, expires_at=now - DAY
            ),
            "kept": AuthSession(
                id=str(uuid.uuid4()), user_id=user.id, expires_at=now + DAY
            ),
        }
        session.add_all(sessions.values())
        await session.flush()
        tokens = {
            "gone": RefreshToken(
                jti=str(uuid.uuid4()),
                session_id=sessions["kept"].id,
                expires_at=now - DAY,
            ),
            "kept": RefreshToken(
                jti=str(uuid.uuid4()),
                session_id=sessions["kept"].id,
                expires_at=now + DAY,
            ),
        }
        keys = {
            name: IdempotencyKey(
                user_id=user.id, key=name, fingerprint="f", expires_at=now + delta
            )
            for name, delta in (("gone", -DAY), ("kept", DAY))
        }
        order = Order(user_id=user.id, total_cents=0, currency="USD")
        session.add_all([*tokens.values(), *keys.values(), order])
        await session.flush()
        events = {
            name: OrderEvent(
                type="order.created",
                order_id=order.id,
                user_id=user.id,
                status="pending",
                order_snapshot={},
                occurred_at=when,
            )
            for name, when in (("gone", old_event), ("kept", now))
        }
        session.add_all(events.values())
        jobs = {
            name: Job(
                kind="noop",
                payload={},
                state=state,
                attempts=1,
                max_attempts=1,
                run_at=when,
                finished_at=None if state == "queued" else when,
                created_at=when,
                updated_at=when,
            )
            for name, state, when in (
                ("succeeded_old", "succeeded", old_job),
                ("dead_old", "dead", old_job),
                ("succeeded_new", "succeeded", now),
                ("queued_old", "queued", old_job),  # never done: never deleted
            )
        }
        session.add_all(jobs.values())
    context = JobContext(
        settings, database, extensions.mail_sender(app), JobRun(0, "cleanup", 1, 3)
    )

    assert await cleanup.run_rules(database, context) >= 6

    async with database.session() as session:

        async def exists(model: type[Any], key: object) -> bool:
            return await session.get(model, key, populate_existing=True) is not None

        assert not await exists(AuthSession, sessions["gone"].id)
        assert await exists(AuthSession, sessions["kept"].id)
        assert not await exists(RefreshToken, tokens["gone"].jti)
        assert await exists(RefreshToken, tokens["kept"].jti)
        assert not await exists(IdempotencyKey, keys["gone"].id)
        assert await exists(IdempotencyKey, keys["kept"].id)
        assert not await exists(OrderEvent, events["gone"].id)
        assert await exists(OrderEvent, events["kept"].id)
        kept_jobs = {name for name, job in jobs.items() if await exists(Job, job.id)}
        assert kept_jobs == {"succeeded_new", "queued_old"}
        # A cursor at or before the deleted event is now `410 cursor_expired`.
        mark = await session.scalar(
            select(RetentionMark.deleted_through).where(
                RetentionMark.table_name == "order_event"
            )
        )
        assert mark is not None
        assert mark >= events["gone"].id
        assert mark < events["kept"].id

    # Running again (at least once) deletes nothing more.
    assert await cleanup.run_rules(database, context) == 0
