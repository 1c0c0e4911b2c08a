"""Second-factor routes: TOTP setup, confirmation and removal."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request, validate_response

from backend import extensions
from backend.api.v1.auth import ACCOUNT_LIMIT
from backend.db.request_scope import get_session
from backend.schemas.auth import (
    RecoveryCodesOut,
    TotpConfirmIn,
    TotpDisableIn,
    TotpSetupIn,
    TotpSetupOut,
)
from backend.schemas.common import NoContent, Problem
from backend.services import mfa
from backend.web.guards import current_user, login_required
from backend.web.ratelimit import rate_limit

blueprint = Blueprint("mfa", __name__, url_prefix="/auth/mfa")


@blueprint.after_request
async def _no_store(response: Response) -> Response:
    # Secrets and recovery codes must not be kept by caches or proxies.
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/totp/setup")
@tag(["auth"])
@login_required
@validate_request(TotpSetupIn)
@validate_response(TotpSetupOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 409)
@document_response(Problem, 429)
@rate_limit(ACCOUNT_LIMIT)
async def setup_totp(data: TotpSetupIn) -> TotpSetupOut:
    """Start TOTP enrolment: a new secret, active once confirmed with a code."""
    secret, uri = await mfa.begin_totp_setup(
        get_session(),
        hasher=extensions.hasher(),
        box=extensions.secret_box(),
        user=current_user(),
        password=data.password,
        issuer=extensions.settings().totp_issuer,
    )
    return TotpSetupOut(secret=secret, otpauth_uri=uri)


@blueprint.post("/totp/confirm")
@tag(["auth"])
@login_required
@validate_request(TotpConfirmIn)
@validate_response(RecoveryCodesOut, 200)
@document_response(Problem, 400)
@document_response(Problem, 409)
@document_response(Problem, 429)
@rate_limit(ACCOUNT_LIMIT)
async def confirm_totp(data: TotpConfirmIn) -> RecoveryCodesOut:
    """Enable TOTP with a current code; returns the recovery codes, shown once."""
    codes = await mfa.confirm_totp(
        get_session(), box=extensions.secret_box(), user=current_user(), code=data.code
    )
    return RecoveryCodesOut(recovery_codes=codes)


@blueprint.delete("/totp")
@tag(["auth"])
@login_required
@validate_request(TotpDisableIn)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 409)
@document_response(Problem, 429)
@rate_limit(ACCOUNT_LIMIT)
@document_response(NoContent, 204)
async def disable_totp(data: TotpDisableIn) -> tuple[str, int]:
    """Turn TOTP off with the password and a TOTP or recovery code."""
    await mfa.disable_totp(
        get_session(),
        hasher=extensions.hasher(),
        box=extensions.secret_box(),
        user=current_user(),
        password=data.password,
        code=data.code,
    )
    return "", 204
