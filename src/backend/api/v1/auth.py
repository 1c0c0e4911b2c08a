"""Auth routes: register, login, refresh, logout, me, change-password."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request
from quart_schema import document_response, tag, validate_request, validate_response

from backend import extensions
from backend.db.request_scope import get_session
from backend.models import User
from backend.schemas.auth import (
    AuthOut,
    ChangePasswordIn,
    LoginIn,
    LogoutIn,
    RefreshIn,
    RegisterIn,
    TokenPair,
)
from backend.schemas.common import NoContent, Problem
from backend.schemas.user import UserOut
from backend.services import auth, logins, mfa, users
from backend.services.logins import IssuedTokens
from backend.web.guards import (
    bearer_token,
    current_claims,
    current_user,
    login_required,
)
from backend.web.ratelimit import Limit, rate_exempt, rate_limit

blueprint = Blueprint("auth", __name__, url_prefix="/auth")

# Registration shares one per-address budget with POST /users.
REGISTER_LIMIT = Limit("register", lambda s: s.register_limit)


def account_key(user_id: int | None, typed: str) -> str:
    """Whose login budget an attempt spends: the account's, however it was typed.

    A name that matches no account has its own budget (lower-cased), so an
    unknown name is limited exactly like a known one and a 429 does not tell
    them apart; the budgets of two names are shared only when both name one
    account, which only someone who already knows both can observe.
    """
    return f"user:{user_id}" if user_id is not None else f"name:{typed.lower()}"


async def _typed_account(kwargs: dict[str, Any]) -> str:
    typed: str = kwargs["data"].username
    return account_key(await users.find_user_id_by_login(get_session(), typed), typed)


LOGIN_LIMITS = (
    Limit("login", lambda s: s.login_limit),
    Limit("login-account", lambda s: s.login_limit, _typed_account),
)
# A stolen access token must not give unlimited guesses at the password or the
# second factor: those checks spend the account's login budget.
ACCOUNT_LIMIT = Limit(
    "login-account",
    lambda s: s.login_limit,
    lambda _kw: account_key(current_user().id, ""),
)


@blueprint.after_request
async def _no_store(response: Response) -> Response:
    # Tokens and personal data must not be kept by caches or proxies.
    response.headers["Cache-Control"] = "no-store"
    return response


def _auth_out(user: User, issued: IssuedTokens) -> AuthOut:
    return AuthOut(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        user=UserOut.model_validate(user),
    )


@blueprint.post("/register")
@tag(["auth"])
@validate_request(RegisterIn)
@validate_response(AuthOut, 201)
@document_response(Problem, 409)
@document_response(Problem, 429)
@rate_limit(REGISTER_LIMIT)
async def register(data: RegisterIn) -> tuple[AuthOut, int]:
    """Create an account and log it in."""
    session = get_session()
    user = await users.register_user(
        session,
        hasher=extensions.hasher(),
        settings=extensions.settings(),
        **data.model_dump(exclude={"password_confirm"}),
    )
    issued = await logins.start_login_session(
        session, tokens=extensions.tokens(), user=user
    )
    return _auth_out(user, issued), 201


@blueprint.post("/login")
@tag(["auth"])
@validate_request(LoginIn)
@validate_response(AuthOut, 200)
@document_response(Problem, 401)
@document_response(Problem, 429)
@rate_limit(*LOGIN_LIMITS)
async def login(data: LoginIn) -> AuthOut:
    """Log in with a username or email, a password and, if enabled, a code."""
    session = get_session()
    user = await auth.authenticate(
        session, hasher=extensions.hasher(), login=data.username, password=data.password
    )
    await mfa.check_login_factor(
        session, box=extensions.secret_box(), user=user, otp=data.otp
    )
    return _auth_out(
        user,
        await logins.start_login_session(
            session, tokens=extensions.tokens(), user=user
        ),
    )


@blueprint.post("/refresh")
@tag(["auth"])
@validate_request(RefreshIn)
@validate_response(TokenPair, 200)
@document_response(Problem, 401)
@rate_exempt("refresh tokens are signed and single-use; there is nothing to guess")
async def refresh(data: RefreshIn) -> TokenPair:
    """Exchange a refresh token (body or Bearer header) for a new pair."""
    token = data.refresh_token or bearer_token(request.headers.get("Authorization"))
    _user, issued = await logins.rotate_refresh_token(
        get_session(), tokens=extensions.tokens(), token=token
    )
    return TokenPair(**_pair(issued))


def _pair(issued: IssuedTokens) -> dict[str, Any]:
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": issued.expires_in,
    }


@blueprint.post("/logout")
@tag(["auth"])
@login_required
@validate_request(LogoutIn)
@rate_exempt("needs a valid access token and only ends sessions")
@document_response(NoContent, 204)
async def logout(data: LogoutIn) -> tuple[str, int]:
    """End the current session (always), and the given refresh token's if valid."""
    await logins.logout(
        get_session(),
        tokens=extensions.tokens(),
        claims=current_claims(),
        refresh_token=data.refresh_token,
    )
    return "", 204


@blueprint.get("/me")
@tag(["auth"])
@login_required
@validate_response(UserOut, 200)
@rate_exempt("needs a valid access token and reads only the caller's account")
async def me() -> UserOut:
    """The logged-in user."""
    return UserOut.model_validate(current_user())


@blueprint.post("/change-password")
@tag(["auth"])
@login_required
@validate_request(ChangePasswordIn)
@document_response(Problem, 403)
@document_response(Problem, 429)
@rate_limit(ACCOUNT_LIMIT)
@document_response(NoContent, 204)
async def change_password(data: ChangePasswordIn) -> tuple[str, int]:
    """Change the password; every other session of the user is revoked."""
    await auth.change_password(
        get_session(),
        hasher=extensions.hasher(),
        user=current_user(),
        current_session_id=current_claims().session_id,
        current_password=data.current_password,
        new_password=data.new_password,
    )
    return "", 204
