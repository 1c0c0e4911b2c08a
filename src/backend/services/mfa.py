"""The TOTP second factor: enrolment, confirmation, removal, and the login check.

Every check that spends a code does so with one conditional statement: a TOTP
code moves the credential's `last_step` forward only if it is later than the
last accepted one, and a recovery code is a DELETE of its row. Two requests
racing with the same code cannot both see "accepted": on PostgreSQL the second
waits for the first's row lock and re-checks, on SQLite writers are serial.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.database import release_connection
from backend.errors import BadRequest, Conflict, NotAuthenticated, PermissionDenied
from backend.models import RecoveryCode, TotpCredential, User
from backend.models.base import utcnow
from backend.security import totp
from backend.security.passwords import PasswordHasher
from backend.security.sealing import Sealer, UnreadableSecret
from backend.services.auth import INVALID_CREDENTIALS

INVALID_CODE = "invalid_code"


def _already_enabled() -> Conflict:
    return Conflict("The second factor is already enabled.", code="mfa_already_enabled")


def _not_enabled() -> Conflict:
    return Conflict("The second factor is not enabled.", code="mfa_not_enabled")


async def _check_password(
    session: AsyncSession, hasher: PasswordHasher, user: User, password: str
) -> None:
    await release_connection(session)  # not held through the hash
    if not await hasher.verify(user.password_hash, password):
        raise PermissionDenied("The password is wrong.", code=INVALID_CREDENTIALS)


async def _locked_mfa_enabled(session: AsyncSession, user_id: int) -> bool:
    """The user's current `mfa_enabled`, its row locked until commit (PostgreSQL)."""
    enabled = await session.scalar(
        select(User.mfa_enabled).where(User.id == user_id).with_for_update()
    )
    return bool(enabled)


async def begin_totp_setup(
    session: AsyncSession,
    *,
    hasher: PasswordHasher,
    box: Sealer,
    user: User,
    password: str,
    issuer: str,
) -> tuple[str, str]:
    """A new secret and its `otpauth://` URI; it replaces an unconfirmed one."""
    if user.mfa_enabled:
        raise _already_enabled()
    await _check_password(session, hasher, user, password)
    if await _locked_mfa_enabled(session, user.id):
        raise _already_enabled()
    secret = totp.new_secret()
    values = {
        "secret_ciphertext": box.seal(secret, context=totp.sealing_context(user.id)),
        "last_step": None,
        "created_at": utcnow(),
    }
    replaced = await session.execute(
        update(TotpCredential)
        .where(TotpCredential.user_id == user.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if replaced.rowcount == 0:  # type: ignore[attr-defined]
        try:
            await session.execute(
                insert(TotpCredential).values(user_id=user.id, **values)
            )
        except IntegrityError as error:  # a concurrent setup inserted first
            raise Conflict(
                "Another setup is in progress.", code="mfa_setup_in_progress"
            ) from error
    uri = totp.provisioning_uri(secret, account=user.username, issuer=issuer)
    return secret, uri


async def confirm_totp(
    session: AsyncSession, *, box: Sealer, user: User, code: str
) -> list[str]:
    """Enable the pending secret if `code` is right; the recovery codes, once."""
    if await _locked_mfa_enabled(session, user.id):
        raise _already_enabled()
    credential = await session.scalar(
        select(TotpCredential).where(TotpCredential.user_id == user.id)
    )
    secret = _readable(box, credential, user.id)
    if credential is None or secret is None:
        raise Conflict("Set up the second factor first.", code="mfa_setup_required")
    step = totp.matching_step(secret, code)
    if step is None:
        raise BadRequest("The code is not valid.", code=INVALID_CODE)
    credential.last_step = step  # this code is spent: no login may reuse it
    user.mfa_enabled = True
    codes = totp.new_recovery_codes()
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(plain))
        for plain in codes
    )
    await session.flush()
    return codes


async def disable_totp(
    session: AsyncSession,
    *,
    hasher: PasswordHasher,
    box: Sealer,
    user: User,
    password: str,
    code: str,
) -> None:
    """Turn the second factor off; needs the password and a current code."""
    if not user.mfa_enabled:
        raise _not_enabled()
    await _check_password(session, hasher, user, password)
    if not await _locked_mfa_enabled(session, user.id):
        raise _not_enabled()
    if not await spend_code(session, box=box, user_id=user.id, code=code):
        raise BadRequest("The code is not valid.", code=INVALID_CODE)
    user.mfa_enabled = False
    await session.execute(
        delete(TotpCredential).where(TotpCredential.user_id == user.id)
    )
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.flush()


async def check_login_factor(
    session: AsyncSession, *, box: Sealer, user: User, otp: str | None
) -> None:
    """For a user with a second factor, after the right password: `otp` or 401."""
    if not user.mfa_enabled:
        return
    if otp is None:
        raise NotAuthenticated(
            "A code from the authenticator app is required.", code="otp_required"
        )
    if not await spend_code(session, box=box, user_id=user.id, code=otp):
        raise NotAuthenticated("Wrong username or password.", code=INVALID_CREDENTIALS)


async def spend_code(
    session: AsyncSession, *, box: Sealer, user_id: int, code: str
) -> bool:
    """Accept a TOTP code newer than any accepted before, or an unused recovery code."""
    if not totp.looks_like_totp(code):
        used = await session.execute(
            delete(RecoveryCode).where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == totp.hash_recovery_code(code),
            )
        )
        return bool(used.rowcount)  # type: ignore[attr-defined]
    credential = await session.scalar(
        select(TotpCredential).where(TotpCredential.user_id == user_id)
    )
    secret = _readable(box, credential, user_id)
    step = None if secret is None else totp.matching_step(secret, code)
    if step is None:
        return False
    accepted = await session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user_id,
            or_(TotpCredential.last_step.is_(None), TotpCredential.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(accepted.rowcount == 1)  # type: ignore[attr-defined]


def _readable(
    box: Sealer, credential: TotpCredential | None, user_id: int
) -> str | None:
    if credential is None:
        return None
    try:
        return box.open(
            credential.secret_ciphertext, context=totp.sealing_context(user_id)
        )
    except UnreadableSecret:  # sealed under an earlier SECRET_KEY: re-enrol
        return None
