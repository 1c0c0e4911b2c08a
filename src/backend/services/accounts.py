"""Account recovery and email ownership: reset and verification tokens.

A token is issued in the caller's transaction together with the job that
emails it, and supersedes the user's unused tokens of the same purpose. It
is redeemed by two conditional UPDATEs in one transaction: the token's
(unused and unexpired: exactly one redeemer wins) and the user's (still
active, still at the address the token was sent to and, for a reset, at the
credentials version it was issued under). Either failing is one answer,
400 `invalid_token`, and the rollback undoes the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.account_mail import Purpose, queue_token_email
from backend.config import Settings
from backend.db.database import release_connection
from backend.errors import BadRequest, Conflict
from backend.jobs import cleanup
from backend.jobs.context import JobContext
from backend.models import AccountToken, User
from backend.models.base import utcnow
from backend.security.account_tokens import NewToken, hash_token, new_token
from backend.security.passwords import PasswordHasher
from backend.services import logins

RESET: Purpose = "password_reset"
VERIFICATION: Purpose = "email_verification"
INVALID_TOKEN = "invalid_token"


def _invalid() -> BadRequest:
    return BadRequest("The token is invalid or has expired.", code=INVALID_TOKEN)


async def _issue(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    purpose: Purpose,
    token: NewToken,
) -> None:
    """Supersede the user's unused tokens of `purpose`, store and email `token`."""
    now = utcnow()
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    ttl = (
        settings.password_reset_ttl
        if purpose == RESET
        else settings.email_verification_ttl
    )
    session.add(
        AccountToken(
            purpose=purpose,
            user_id=user.id,
            token_hash=token.token_hash,
            email=user.email,
            token_version=user.token_version,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    await session.flush()
    await queue_token_email(
        session,
        purpose=purpose,
        to=user.email,
        username=user.username,
        token=token,
        secret_key=settings.secret_key,
    )


async def request_password_reset(
    session: AsyncSession, *, settings: Settings, email: str
) -> None:
    """Email a reset token if an active account has `email`; silent otherwise.

    Both cases do the same work up to the lookup (the token is made either
    way) and neither waits on mail, so the answer reveals nothing.
    """
    token = new_token()
    user = await session.scalar(
        select(User)
        .where(User.email == email.lower(), User.is_active.is_(True))
        # Serialises two resets of one account, so exactly one token stays live
        # (SQLite needs no lock: it serialises every writer).
        .with_for_update()
    )
    if user is not None:
        await _issue(session, settings=settings, user=user, purpose=RESET, token=token)


async def send_verification(
    session: AsyncSession, *, settings: Settings, user: User
) -> None:
    """Email a verification token to the user's current address."""
    await _issue(
        session, settings=settings, user=user, purpose=VERIFICATION, token=new_token()
    )


async def resend_verification(
    session: AsyncSession, *, settings: Settings, user: User
) -> None:
    """A new verification email; older tokens stop working. 409 once verified."""
    if user.email_verified:
        raise Conflict(
            "The email address is already verified.", code="already_verified"
        )
    await send_verification(session, settings=settings, user=user)


async def _find(session: AsyncSession, purpose: Purpose, token: str) -> AccountToken:
    found = await session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == hash_token(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
        )
    )
    if found is None:
        raise _invalid()
    return found


async def _redeem(
    session: AsyncSession, found: AccountToken, **user_values: Any
) -> None:
    """Use up `found` and update its user, both conditionally, or 400."""
    now = utcnow()
    claimed = await session.execute(
        update(AccountToken)
        .where(
            AccountToken.id == found.id,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
    )
    conditions = [
        User.id == found.user_id,
        User.is_active.is_(True),
        User.email == found.email,
    ]
    if found.purpose == RESET:
        conditions.append(User.token_version == found.token_version)
    changed = await session.execute(
        update(User)
        .where(*conditions)
        .values(updated_at=now, **user_values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1 or changed.rowcount != 1:  # type: ignore[attr-defined]
        raise _invalid()


async def confirm_password_reset(
    session: AsyncSession, *, hasher: PasswordHasher, token: str, new_password: str
) -> None:
    """Set the new password and revoke every session of the user."""
    found = await _find(session, RESET, token)
    await release_connection(session)  # not held through the hash
    password_hash = await hasher.hash(new_password)
    await _redeem(
        session,
        found,
        password_hash=password_hash,
        token_version=User.token_version + 1,
        # A login that checked the old password cannot create its session now.
        credentials_version=User.credentials_version + 1,
    )
    await logins.revoke_login_sessions(session, user_id=found.user_id)


async def verify_email(session: AsyncSession, *, token: str) -> User:
    """Mark the address the token was sent to as the user's, verified."""
    found = await _find(session, VERIFICATION, token)
    await _redeem(session, found, email_verified=True)
    return await session.get_one(User, found.user_id, populate_existing=True)


async def void_account_tokens(
    session: AsyncSession, _context: JobContext, now: datetime
) -> int:
    """Retention: tokens that expired or were used can never be redeemed."""
    ids = (
        select(AccountToken.id)
        .where(or_(AccountToken.expires_at < now, AccountToken.used_at.is_not(None)))
        .limit(cleanup.BATCH_SIZE)
    )
    found = list((await session.scalars(ids)).all())
    if found:
        await session.execute(delete(AccountToken).where(AccountToken.id.in_(found)))
    return len(found)


cleanup.add_rule(void_account_tokens)
