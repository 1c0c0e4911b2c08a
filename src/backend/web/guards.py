"""Route guards: `login_required`, `admin_required` and `viewer_required`.

`login_required` loads the user (for views that need more than who is asking);
`viewer_required` only establishes who is asking and in which role
(`current_login()`), answered from this worker's login cache when it can
(`web.login_cache`): views that read on behalf of the caller need no more.
On a cache miss it checks with `Database.read`, whose connection is returned
before the view runs, never on the request's session: a view that reads the
same way then holds one connection at a time (a request holding its
session's connection while it waits for a second could exhaust the pool
under load).
"""

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
from backend.services.logins import LiveLogin, check_token_login, load_token_user

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


async def use_access_login(token: str) -> LiveLogin:
    """The live login behind `token`, remembered for the rest of the request."""
    claims = extensions.tokens().decode_access(token)
    cache = extensions.login_cache()
    login = cache.lookup(claims) if cache is not None else None
    if login is None:
        ticket = cache.ticket(claims.user_id) if cache is not None else None
        checked = await check_token_login(extensions.database(), claims)
        if cache is not None and ticket is not None:
            cache.store(ticket, checked)
        login = checked.login
    g.current_login = login
    g.access_claims = claims
    return login


def current_login() -> LiveLogin:
    login: LiveLogin = g.current_login
    return login


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


def viewer_required(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Like `login_required` for views that need only `current_login()`."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        await use_access_login(bearer_token(request.headers.get("Authorization")))
        return await view(*args, **kwargs)

    return security_scheme(BEARER)(wrapper)
