"""One websocket subscriber: replay, then live events, under its own limits.

Per connection there is one bounded queue (filled by the broker) and three
tasks: the sender (replay, then the queue), the reader (inbound frames are
read and discarded, too big or too many close the socket) and the guard (the
token's expiry and the session's revocation). The first to ask for a close
decides the code; the other tasks are then cancelled, none outlives the socket.
After the close frame the handler keeps reading until the client's close (see
`_linger`): only then may it return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt
from quart import g, websocket

from backend import extensions, metrics
from backend.config import Settings
from backend.errors import BadRequest, NotAuthenticated, RateLimited
from backend.events.bus import EventBus, Subscriber, encode_event
from backend.events.login_checks import LoginChecker
from backend.events.watchdog import SendWatchdog
from backend.services.logins import LiveLogin, load_token_user
from backend.services.order_events import list_order_events
from backend.web.guards import bearer_token

CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_UNAUTHORIZED = 4401
MAX_INBOUND_BYTES = 4096
# Clients need send nothing; a few frames a second is already generous.
MAX_INBOUND_PER_SECOND = 10
# How often a live socket re-checks that its session is still valid.
REVALIDATE_SECONDS = 5.0
# After our close frame, how long a client may stay silent without answering it
# before the handler returns and Hypercorn drops the connection.
CLOSE_LINGER_SECONDS = 2.0
REPLAY_BATCH = 500
logger = logging.getLogger(__name__)
Deliver = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    is_admin: bool
    login: LiveLogin
    expires_at: float


def socket_token() -> str:
    """The Bearer header's token, else `?access_token=`; the header wins."""
    header = websocket.headers.get("Authorization")
    if header is not None:
        return bearer_token(header)
    token = websocket.args.get("access_token", "").strip()
    if not token:
        raise NotAuthenticated("A Bearer access token is required.")
    return token


def parse_since(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise BadRequest("`since` must be a non-negative integer.")
    return int(value)


async def authenticate_viewer(token: str) -> Viewer:
    """Check the token against live state in one short session."""
    claims = extensions.tokens().decode_access(token)
    async with extensions.database().session(readonly=True) as session:
        user = await load_token_user(session, claims)
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    login = LiveLogin(claims.session_id, user.id, claims.token_version)
    return Viewer(user.id, user.is_admin, login, float(expires_at))


def admit_subscriber(bus: EventBus, viewer: Viewer) -> Subscriber:
    """A live subscription for `viewer`; 429 when the user holds too many sockets.

    Taken before the replay, so nothing committed in between can fall in a gap.
    """
    settings: Settings = extensions.settings()
    subscriber = Subscriber(
        user_id=viewer.user_id,
        is_admin=viewer.is_admin,
        queue_size=settings.ws_queue_size,
    )
    if not bus.broker.admit(
        subscriber, per_user_limit=settings.ws_max_connections_per_user
    ):
        raise RateLimited(5, "Too many open event sockets for this user.")
    return subscriber


async def stream_events(
    bus: EventBus, subscriber: Subscriber, viewer: Viewer, *, since: int | None
) -> None:
    """Accept the socket and serve it until a close reason arises; close with it."""
    try:
        await websocket.accept(headers={"X-Request-ID": g.request_id})
    except BaseException:
        bus.broker.discard(subscriber)
        raise
    metrics.subscriber_opened("websocket")
    tasks = [
        asyncio.create_task(_send(subscriber, viewer, since)),
        asyncio.create_task(_read(subscriber)),
        asyncio.create_task(_guard(subscriber, viewer)),
    ]
    try:
        try:
            await subscriber.closing.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        assert subscriber.close_code is not None
        logger.info(
            "order-events subscriber closed",
            extra={"close_code": subscriber.close_code, "user_id": viewer.user_id},
        )
        # A client that stopped reading cannot take the close frame either; the
        # connection is then dropped by Hypercorn's read_timeout (it sends no
        # pongs), and the linger ends on its silence.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(websocket.close(subscriber.close_code), 5)
        await _linger()
    finally:
        # A lingering socket still counts against its user's limit.
        bus.broker.discard(subscriber)
        metrics.subscriber_closed("websocket")


async def _send(subscriber: Subscriber, viewer: Viewer, since: int | None) -> None:
    watchdog: SendWatchdog = extensions.send_watchdog()
    send = websocket.send  # resolved once, not per frame

    async def deliver(frame: str) -> None:
        watchdog.started(subscriber)  # it closes the socket (1013) if this stalls
        try:
            await send(frame)
        finally:
            watchdog.finished(subscriber)
        metrics.order_event_delivered("websocket")

    last = -1 if since is None else await _replay(viewer, since, deliver)
    while True:
        event_id, frame = await subscriber.queue.get()
        if event_id > last:  # the replay already sent it
            await deliver(frame)
            last = event_id


async def _replay(viewer: Viewer, since: int, deliver: Deliver) -> int:
    viewer_id = None if viewer.is_admin else viewer.user_id
    last = since
    while True:
        async with extensions.database().session(readonly=True) as session:
            rows = await list_order_events(
                session, viewer_id=viewer_id, since=last, limit=REPLAY_BATCH
            )
        for row in rows:  # the session is closed: no connection held while sending
            await deliver(encode_event(row))
            last = row.id
        if len(rows) < REPLAY_BATCH:
            return last


async def _read(subscriber: Subscriber) -> None:
    window, count = time.monotonic(), 0
    while True:
        message = await websocket.receive()
        size = len(message.encode() if isinstance(message, str) else message)
        if size > MAX_INBOUND_BYTES:
            subscriber.close(CLOSE_TOO_BIG)
            return
        now = time.monotonic()
        if now - window >= 1:
            window, count = now, 0
        count += 1
        if count > MAX_INBOUND_PER_SECOND:
            subscriber.close(CLOSE_POLICY_VIOLATION)
            return


async def _linger() -> None:
    """Read and discard inbound frames until the client answers the close frame.

    Hypercorn hands inbound frames to Quart through a queue of
    `max_app_queue_size` (10), and Quart stops taking from it once the handler
    returns. Returning while a flood is still arriving fills it: Hypercorn's
    reader and its end-of-socket cleanup then both wait on it for good, so the
    client's close is never read and the connection is never closed. Returning
    with frames still in flight closes the connection with bytes unread, which
    resets it, and the client can lose the close frame. So the handler stays
    until the disconnect, which arrives once Hypercorn has read the client's
    close (Quart then cancels this task), or until the client has sent nothing
    for CLOSE_LINGER_SECONDS. A client that keeps sending is read, like any
    open socket, and keeps its place in the per-user limit.
    """
    loop = asyncio.get_running_loop()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_LINGER_SECONDS) as silence:
            while True:
                await websocket.receive()
                silence.reschedule(loop.time() + CLOSE_LINGER_SECONDS)


async def _guard(subscriber: Subscriber, viewer: Viewer) -> None:
    checker: LoginChecker = extensions.login_checker()
    while True:
        remaining = viewer.expires_at - time.time()
        await asyncio.sleep(max(0.0, min(REVALIDATE_SECONDS, remaining)))
        if time.time() >= viewer.expires_at or not await checker.is_live(viewer.login):
            subscriber.close(CLOSE_UNAUTHORIZED)
            return
