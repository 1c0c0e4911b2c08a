"""Account routes under /auth: password reset and email verification."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request, validate_response

from backend import extensions
from backend.db.request_scope import get_session
from backend.schemas.auth import (
    Accepted,
    PasswordResetConfirmIn,
    PasswordResetIn,
    VerifyEmailIn,
)
from backend.schemas.common import NoContent, Problem
from backend.schemas.user import UserOut
from backend.services import accounts
from backend.web.guards import current_user, login_required
from backend.web.ratelimit import Limit, rate_exempt, rate_limit

blueprint = Blueprint("accounts", __name__, url_prefix="/auth")

# Per client address and per typed email: neither a spray of addresses from
# one client nor one mailbox flooded from many clients.
RESET_LIMITS = (
    Limit("password-reset", lambda s: s.password_reset_limit),
    Limit(
        "password-reset-email",
        lambda s: s.password_reset_limit,
        lambda kw: kw["data"].email.lower(),
    ),
)
# Resending is the same kind of mail-a-token request: the same budget, per user.
RESEND_LIMIT = Limit(
    "verify-email-resend",
    lambda s: s.password_reset_limit,
    lambda _kw: str(current_user().id),
)
UNGUESSABLE = "tokens are 256 random bits; a password is hashed only for a valid one"


@blueprint.after_request
async def _no_store(response: Response) -> Response:
    # Personal data must not be kept by caches or proxies.
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/password-reset")
@tag(["auth"])
@validate_request(PasswordResetIn)
@validate_response(Accepted, 202)
@document_response(Problem, 429)
@rate_limit(*RESET_LIMITS)
async def request_password_reset(data: PasswordResetIn) -> tuple[Accepted, int]:
    """Email a reset link if an active account has this email (same answer if not)."""
    await accounts.request_password_reset(
        get_session(), settings=extensions.settings(), email=data.email
    )
    return Accepted(), 202


@blueprint.post("/password-reset/confirm")
@tag(["auth"])
@validate_request(PasswordResetConfirmIn)
@document_response(Problem, 400)
@rate_exempt(UNGUESSABLE)
@document_response(NoContent, 204)
async def confirm_password_reset(data: PasswordResetConfirmIn) -> tuple[str, int]:
    """Set a new password with a reset token; every session of the user ends."""
    await accounts.confirm_password_reset(
        get_session(),
        hasher=extensions.hasher(),
        token=data.token,
        new_password=data.new_password,
    )
    return "", 204


@blueprint.post("/verify-email")
@tag(["auth"])
@validate_request(VerifyEmailIn)
@validate_response(UserOut, 200)
@document_response(Problem, 400)
@rate_exempt(UNGUESSABLE)
async def verify_email(data: VerifyEmailIn) -> UserOut:
    """Confirm the email address a verification token was sent to."""
    user = await accounts.verify_email(get_session(), token=data.token)
    return UserOut.model_validate(user)


@blueprint.post("/verify-email/resend")
@tag(["auth"])
@login_required
@validate_response(Accepted, 202)
@document_response(Problem, 409)
@document_response(Problem, 429)
@rate_limit(RESEND_LIMIT)
async def resend_verification() -> tuple[Accepted, int]:
    """Send a new verification email to your address; older links stop working."""
    await accounts.resend_verification(
        get_session(), settings=extensions.settings(), user=current_user()
    )
    return Accepted(), 202
