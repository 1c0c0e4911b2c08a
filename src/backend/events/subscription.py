"""One subscription to order events, whatever carries it (websocket or SSE).

The handshake checks the token and the cursor in one short session and admits
the subscriber to the broker (the per-user cap counts both transports). Then
`serve` runs two tasks until a close reason arises: the sender (replay after
`since`, then the live queue, with no gap and no duplicate at the seam) and the
guard (the token's expiry and the session's revocation). A transport passes
how one frame goes out (`deliver`) and any task of its own (the websocket's
reader); the first to ask for a close decides the code, and no task outlives
`serve`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import jwt

from backend import extensions
from backend.db.failures import is_database_unavailable
from backend.errors import BadRequest, NotAuthenticated, RateLimited
from backend.events.bus import (
    CLOSE_TRY_AGAIN_LATER,
    EventBus,
    Frame,
    Subscriber,
    encode_frame,
)
from backend.events.login_checks import LoginChecker
from backend.services.logins import LiveLogin, load_token_user
from backend.services.order_events import check_cursor, list_order_events
from backend.web.guards import bearer_token

CLOSE_INTERNAL_ERROR = 1011
CLOSE_UNAUTHORIZED = 4401
# How often a live subscription re-checks that its session is still valid.
REVALIDATE_SECONDS = 5.0
REPLAY_BATCH = 500
# The subprotocol a browser offers, followed by its access token.
BEARER_SUBPROTOCOL = "bearer"
logger = logging.getLogger(__name__)
Deliver = Callable[[Frame], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    is_admin: bool
    login: LiveLogin
    expires_at: float


def presented_token(
    authorization: str | None,
    query_token: str | None,
    subprotocols: list[str] | None = None,
) -> str:
    """The `Authorization: Bearer` token, else the one offered after the
    `bearer` subprotocol, else `?access_token=`; the header wins."""
    if authorization is not None:
        return bearer_token(authorization)
    offered = subprotocols or []
    if BEARER_SUBPROTOCOL in offered:
        after = offered.index(BEARER_SUBPROTOCOL) + 1
        if after < len(offered) and offered[after].strip():
            return offered[after].strip()
        raise NotAuthenticated("The `bearer` subprotocol must be followed by a token.")
    token = (query_token or "").strip()
    if not token:
        raise NotAuthenticated("A Bearer access token is required.")
    return token


def parse_since(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise BadRequest("`since` must be a non-negative integer.")
    return int(value)


async def authenticate_viewer(token: str, *, since: int | None = None) -> Viewer:
    """Check the token against live state, and `since` against retention (410),
    in one short session."""
    claims = extensions.tokens().decode_access(token)
    async with extensions.database().session(readonly=True) as session:
        user = await load_token_user(session, claims)
        if since is not None:
            await check_cursor(session, since)
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    login = LiveLogin(claims.session_id, user.id, claims.token_version, user.is_admin)
    return Viewer(user.id, user.is_admin, login, float(expires_at))


def new_subscriber(viewer: Viewer) -> Subscriber:
    settings = extensions.settings()
    return Subscriber(
        user_id=viewer.user_id,
        is_admin=viewer.is_admin,
        queue_size=settings.ws_queue_size,
    )


def per_user_limit() -> int:
    """Websockets and event streams one user may hold open on one worker."""
    settings = extensions.settings()
    return settings.ws_max_connections_per_user


def admit_subscriber(bus: EventBus, viewer: Viewer) -> Subscriber:
    """A live subscription for `viewer`; 429 when the user holds too many.

    Taken before the replay, so nothing committed in between can fall in a gap.
    """
    subscriber = new_subscriber(viewer)
    if not bus.broker.admit(subscriber, per_user_limit=per_user_limit()):
        raise too_many_subscriptions()
    return subscriber


def too_many_subscriptions() -> RateLimited:
    return RateLimited(5, "Too many open event connections for this user.")


async def serve(
    subscriber: Subscriber,
    viewer: Viewer,
    since: int | None,
    deliver: Deliver,
    *also: Coroutine[Any, Any, None],
) -> int:
    """Send events through `deliver` until a close reason arises; its close code."""
    tasks: list[asyncio.Task[Any]] = [
        asyncio.create_task(_send(subscriber, viewer, since, deliver)),
        asyncio.create_task(_guard(subscriber, viewer)),
        *(asyncio.create_task(job) for job in also),
    ]
    closing = asyncio.create_task(subscriber.closing.wait())
    try:
        done, _ = await asyncio.wait(
            [closing, *tasks], return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (closing, *tasks):
            task.cancel()
        await asyncio.gather(closing, *tasks, return_exceptions=True)
    if subscriber.close_code is None:  # a task failed, e.g. the database mid-replay
        _close_after_failure(subscriber, [task for task in done if task in tasks])
    assert subscriber.close_code is not None
    return subscriber.close_code


def _close_after_failure(
    subscriber: Subscriber, ended: list[asyncio.Task[Any]]
) -> None:
    error = next((t.exception() for t in ended if not t.cancelled()), None)
    if error is not None and is_database_unavailable(error):
        subscriber.close(CLOSE_TRY_AGAIN_LATER)  # an outage: resume with `since`
        return
    logger.error("order-events subscription failed", exc_info=error)
    subscriber.close(CLOSE_INTERNAL_ERROR)


async def _send(
    subscriber: Subscriber, viewer: Viewer, since: int | None, deliver: Deliver
) -> None:
    last = -1 if since is None else await _replay(viewer, since, deliver)
    while True:
        frame = await subscriber.queue.get()
        if frame.id > last:  # the replay already sent it
            await deliver(frame)
            last = frame.id


async def _replay(viewer: Viewer, since: int, deliver: Deliver) -> int:
    viewer_id = None if viewer.is_admin else viewer.user_id
    last = since
    while True:
        async with extensions.database().session(readonly=True) as session:
            rows = await list_order_events(
                session, viewer_id=viewer_id, since=last, limit=REPLAY_BATCH
            )
        for row in rows:  # the session is closed: no connection held while sending
            await deliver(encode_frame(row))
            last = row.id
        if len(rows) < REPLAY_BATCH:
            return last


async def _guard(subscriber: Subscriber, viewer: Viewer) -> None:
    checker: LoginChecker = extensions.login_checker()
    while True:
        remaining = viewer.expires_at - time.time()
        await asyncio.sleep(max(0.0, min(REVALIDATE_SECONDS, remaining)))
        if time.time() >= viewer.expires_at or not await checker.is_live(viewer.login):
            subscriber.close(CLOSE_UNAUTHORIZED)
            return
