"""The `account_email` job: unseal, link from PUBLIC_BASE_URL, never log the token."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from quart import Quart
from sqlalchemy import select, update

from backend import extensions
from backend.account_mail import TokenEmail, send_token_email
from backend.jobs import JobContext, JobFailed, JobRun, cleanup
from backend.mail import EmailSender, LoggingSender, OutboxSender
from backend.models import AccountToken, Job
from backend.models.base import utcnow
from backend.security.account_tokens import hash_token
from backend.services import accounts
from tests.conftest import make_settings
from tests.support.factories import make_user


def context(app: Quart, sender: EmailSender, **overrides: object) -> JobContext:
    settings = extensions.settings(app)
    if overrides:
        settings = make_settings(settings.database_url, **overrides)
    return JobContext(
        settings=settings,
        database=extensions.database(app),
        sender=sender,
        run=JobRun(id=1, kind="account_email", attempt=1, max_attempts=60),
    )


async def queued_reset(app: Quart) -> tuple[TokenEmail, str]:
    """A reset requested for a new user: the job's payload and the token's hash."""
    async with extensions.database(app).session() as session:
        user = await make_user(session, app)
        await accounts.request_password_reset(
            session, settings=extensions.settings(app), email=user.email
        )
        job = await session.scalar(select(Job).where(Job.kind == "account_email"))
    assert job is not None
    payload = TokenEmail.model_validate(job.payload)
    return payload, payload.token_hash


async def test_the_email_links_to_the_public_base_url_with_the_token(
    app: Quart,
) -> None:
    payload, token_hash = await queued_reset(app)
    outbox = OutboxSender()
    await send_token_email(
        context(app, outbox, public_base_url="https://shop.example/"), payload
    )
    [email] = outbox.outbox
    assert email.to == payload.to
    assert email.subject == "Reset your password"
    link = "https://shop.example/reset-password#token="
    assert link in email.body
    token = email.body.split(link)[1].split()[0]
    assert hash_token(token) == token_hash


async def test_the_logging_sender_never_logs_the_token(
    app: Quart, caplog: pytest.LogCaptureFixture
) -> None:
    payload, _ = await queued_reset(app)
    outbox = OutboxSender()
    await send_token_email(context(app, outbox), payload)
    token = outbox.outbox[0].body.split("#token=")[1].split()[0]
    with caplog.at_level(logging.DEBUG):
        await send_token_email(context(app, LoggingSender()), payload)
    assert caplog.records
    assert token not in caplog.text
    assert payload.sealed not in caplog.text


async def test_a_void_token_is_not_mailed(app: Quart) -> None:
    payload, token_hash = await queued_reset(app)
    async with extensions.database(app).session() as session:
        await session.execute(
            update(AccountToken)
            .where(AccountToken.token_hash == token_hash)
            .values(used_at=utcnow())
        )
    outbox = OutboxSender()
    await send_token_email(context(app, outbox), payload)
    assert outbox.outbox == []


async def test_a_rotated_secret_key_fails_safely(app: Quart) -> None:
    payload, _ = await queued_reset(app)
    outbox = OutboxSender()
    with pytest.raises(JobFailed, match="SECRET_KEY"):
        await send_token_email(
            context(
                app, outbox, secret_key="another-secret-key-long-enough-0123456789"
            ),
            payload,
        )
    assert outbox.outbox == []


async def test_cleanup_deletes_used_and_expired_tokens_only(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        user = await make_user(session, app)
        now = utcnow()
        for n, (expires, used) in enumerate(
            [(1, None), (-1, None), (1, now), (3600, None)]
        ):
            session.add(
                AccountToken(
                    purpose="password_reset",
                    user_id=user.id,
                    token_hash=f"{n:064d}",
                    email=user.email,
                    token_version=0,
                    expires_at=now + timedelta(seconds=expires),
                    used_at=used,
                )
            )
        await session.flush()
        deleted = await accounts.void_account_tokens(
            session, context(app, OutboxSender()), now
        )
        left = (await session.scalars(select(AccountToken.token_hash))).all()
    assert deleted == 2
    assert accounts.void_account_tokens in cleanup.RULES
    assert sorted(left) == [f"{0:064d}", f"{3:064d}"]
