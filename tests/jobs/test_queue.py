"""Enqueueing: in the caller's transaction, validated at once, deduplicated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import extensions
from backend.jobs import UnknownJobKind, enqueue, queue
from backend.mail import Email
from backend.models import Job
from backend.models.base import utcnow
from tests.api.helpers import new_account, problem
from tests.support import job_kinds  # noqa: F401 - registers the test kinds


async def job_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def test_an_unknown_kind_is_refused_at_enqueue_and_writes_nothing(
    app: Quart,
) -> None:
    async with extensions.database(app).session() as session:
        before = await job_count(session)
        with pytest.raises(UnknownJobKind, match="no job kind 'no_such_kind'"):
            await enqueue(session, "no_such_kind", {})
        assert await job_count(session) == before


@pytest.mark.parametrize(
    "payload",
    [
        {"to": "someone@example.com"},  # subject and body missing
        {"to": "x", "subject": "s" * 201, "body": "b"},  # over the limit
        {"to": 5, "subject": "s", "body": "b"},  # not a string
    ],
)
async def test_a_payload_its_model_refuses_is_refused_at_enqueue(
    app: Quart, payload: dict[str, str]
) -> None:
    async with extensions.database(app).session() as session:
        before = await job_count(session)
        with pytest.raises(ValidationError):
            await enqueue(session, "send_email", payload)
        assert await job_count(session) == before


async def test_a_job_exists_only_if_its_transaction_commits(app: Quart) -> None:
    database = extensions.database(app)
    email = Email(to="a@example.com", subject="Hi", body="Hello")
    async with database.session() as session:
        before = await job_count(session)

    async def failing_change() -> None:
        async with database.session() as session:
            await enqueue(session, "send_email", email)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with database.session() as session:
        assert await job_count(session) == before
        await enqueue(session, "send_email", email)
    async with database.session() as session:
        job = await session.scalar(select(Job).order_by(Job.id.desc()).limit(1))
    assert job is not None
    assert (job.kind, job.state, job.attempts) == ("send_email", "queued", 0)
    assert job.max_attempts == 60
    assert job.payload == email.model_dump(mode="json")


async def test_a_dedupe_key_makes_a_second_enqueue_a_no_op(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        before = await job_count(session)
        for _ in range(3):
            await enqueue(
                session,
                "test_append",
                {"path": "/dev/null", "line": "x"},
                dedupe_key="only-one",
            )
        assert await job_count(session) == before + 1


async def test_registering_queues_one_welcome_email(app: Quart, client: Client) -> None:
    account = new_account()
    response = await client.post("/api/v1/auth/register", json=account)
    assert response.status_code == 201
    async with extensions.database(app).session() as session:
        jobs = (
            await session.scalars(select(Job).where(Job.kind == "send_email"))
        ).all()
    assert [job.payload["to"] for job in jobs] == [account["email"]]


async def test_a_registration_that_fails_queues_no_email(
    app: Quart, client: Client
) -> None:
    account = new_account()
    assert (await client.post("/api/v1/auth/register", json=account)).status_code == 201
    # The same username again: the insert fails and the request rolls back.
    again = new_account(username=account["username"])
    await problem(
        await client.post("/api/v1/auth/register", json=again), 409, "username_taken"
    )
    async with extensions.database(app).session() as session:
        sent_to = (
            await session.scalars(select(Job.payload).where(Job.kind == "send_email"))
        ).all()
    assert [payload["to"] for payload in sent_to] == [account["email"]]


async def test_a_claim_takes_the_oldest_of_due_and_abandoned_jobs_and_no_more(
    app: Quart,
) -> None:
    """Due and abandoned jobs are claimed in two parts; the surplus goes back."""
    past = utcnow() - timedelta(minutes=5)
    async with extensions.database(app).session() as session:
        for _ in range(3):
            await enqueue(session, "noop", {})
        due_old, due_new, abandoned = (
            await session.scalars(
                select(Job).where(Job.kind == "noop").order_by(Job.id.desc()).limit(3)
            )
        ).all()[::-1]
        # One job a dead process claimed (its lease is over), due between the
        # other two; both parts of the claim find a job.
        due_old.run_at = past - timedelta(seconds=2)
        abandoned.run_at = past - timedelta(seconds=1)
        due_new.run_at = past
        abandoned.state, abandoned.attempts = "running", 1
        abandoned.locked_by, abandoned.locked_until = "dead-process", past
        await session.flush()

        claimed = await queue.claim(
            session, worker="me", limit=2, lease=60, kinds=["noop"]
        )
        assert [job.id for job in claimed] == [due_old.id, abandoned.id]
        assert [job.attempts for job in claimed] == [1, 2]
        await session.refresh(due_new)
        # Claimed by the due part and released at once: as it was.
        assert (due_new.state, due_new.attempts, due_new.locked_by) == (
            "queued",
            0,
            None,
        )
