"""The emails that carry account tokens: a job kind of their own.

`send_email` jobs carry the finished message, so a token in it would sit in
the job table in clear text for `JOB_RETENTION`. These jobs carry the token
sealed (see `backend.security.account_tokens`); the handler unseals it,
writes the link from `PUBLIC_BASE_URL` and sends it like any email. A token
that was used, superseded or cleaned up before its email went out is not
sent at all: the link could only fail.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.jobs import JobContext, JobFailed, enqueue
from backend.mail import Email, email_job_kind
from backend.models import AccountToken
from backend.models.base import utcnow
from backend.security.account_tokens import NewToken, seal, unseal
from backend.security.sealing import UnreadableSecret

logger = logging.getLogger(__name__)
Purpose = Literal["password_reset", "email_verification"]


class TokenEmail(BaseModel):
    """The `account_email` job's payload: never the token itself."""

    purpose: Purpose
    to: str = Field(max_length=320)
    username: str = Field(max_length=30)
    token_hash: str = Field(min_length=64, max_length=64)
    sealed: str = Field(max_length=128)  # a 43-character token sealed: 98


async def queue_token_email(
    session: AsyncSession,
    *,
    purpose: Purpose,
    to: str,
    username: str,
    token: NewToken,
    secret_key: str,
) -> None:
    """Email `token` to `to` once the session's transaction commits."""
    payload = TokenEmail(
        purpose=purpose,
        to=to,
        username=username,
        token_hash=token.token_hash,
        sealed=seal(secret_key, token),
    )
    await enqueue(session, "account_email", payload)


def render(payload: TokenEmail, token: str, base_url: str) -> Email:
    """The message; the token goes in the link's fragment, which browsers never
    send to a server (no access logs, no Referer)."""
    base = base_url.rstrip("/")
    if payload.purpose == "password_reset":
        link = f"{base}/reset-password#token={token}"
        return Email(
            to=payload.to,
            subject="Reset your password",
            body=(
                f"Hello {payload.username},\n\nto choose a new password, open\n\n"
                f"{link}\n\nThe link works once, within the hour. If you did not "
                "ask for it, ignore this email: your password stays as it is.\n"
            ),
        )
    link = f"{base}/verify-email#token={token}"
    return Email(
        to=payload.to,
        subject="Confirm your email address",
        body=(
            f"Hello {payload.username},\n\nto confirm that this address is yours, "
            f"open\n\n{link}\n\nThe link works once, within a day.\n"
        ),
    )


async def _still_redeemable(context: JobContext, token_hash: str) -> bool:
    async with context.database.session(readonly=True) as session:
        found = await session.scalar(
            select(AccountToken.id).where(
                AccountToken.token_hash == token_hash,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > utcnow(),
            )
        )
    return found is not None


@email_job_kind("account_email", TokenEmail)
async def send_token_email(context: JobContext, payload: TokenEmail) -> None:
    """Unseal the token and send its link; nothing for a token already void."""
    if not await _still_redeemable(context, payload.token_hash):
        logger.info("%s email not sent: its token is void", payload.purpose)
        return
    try:
        token = unseal(context.settings.secret_key, payload.token_hash, payload.sealed)
    except UnreadableSecret:
        raise JobFailed(
            "The token cannot be unsealed: was SECRET_KEY changed?"
        ) from None
    await context.sender.send(render(payload, token, context.settings.public_base_url))
