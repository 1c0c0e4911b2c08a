"""Route guards: `login_required` and `admin_required`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from quart import g, request
from quart_schema import security_scheme

from backend import extensions
from backend.db.request_scope import get_session
from backend.errors import NotAuthenticated, PermissionDenied
from backend.models import User
from backend.security.tokens import AccessClaims
from backend.services.logins import load_token_user

P = ParamSpec("P")
R = TypeVar("R")
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or 401."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("A Bearer access token is required.")
    return token.strip()


async def use_access_token(token: str) -> User:
    """The user behind `token`, remembered for the rest of the request."""
    claims = extensions.tokens().decode_access(token)
    user = await load_token_user(get_session(), claims)
    g.current_user = user
    g.access_claims = claims
    return user


def current_user() -> User:
    user: User = g.current_user
    return user


def current_claims() -> AccessClaims:
    claims: AccessClaims = g.access_claims
    return claims


def login_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Let the view run only for a valid, unrevoked access token."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        await use_access_token(bearer_token(request.headers.get("Authorization")))
        return await view(*args, **kwargs)

    return security_scheme(BEARER)(wrapper)


def admin_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Like `login_required`, and the user must be an admin."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user = await use_access_token(
            bearer_token(request.headers.get("Authorization"))
        )
        if not user.is_admin:
            raise PermissionDenied("Administrators only.")
        return await view(*args, **kwargs)

    return security_scheme(BEARER)(wrapper)
