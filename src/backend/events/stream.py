"""The websocket transport of an order-events subscription.

`serve` (events/subscription.py) sends and guards; this module accepts the
socket (selecting the `bearer` subprotocol when the token came that way), adds
the reader (inbound frames are read and discarded, too big or too many close
the socket) and closes with the code `serve` returns. After the close frame the
handler keeps reading until the client's close (see `_linger`): only then may
it return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from quart import g, websocket

from backend import extensions, metrics
from backend.events.bus import EventBus, Frame, Subscriber
from backend.events.subscription import (
    BEARER_SUBPROTOCOL,
    Deliver,
    Viewer,
    presented_token,
    serve,
)
from backend.events.watchdog import SendWatchdog

CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
MAX_INBOUND_BYTES = 4096
# Clients need send nothing; a few frames a second is already generous.
MAX_INBOUND_PER_SECOND = 10
# After our close frame, how long a client may stay silent without answering it
# before the handler returns and Hypercorn drops the connection.
CLOSE_LINGER_SECONDS = 2.0
logger = logging.getLogger(__name__)


def socket_token() -> str:
    """The Bearer header's token, else the `bearer` subprotocol's, else
    `?access_token=`; the header wins."""
    return presented_token(
        websocket.headers.get("Authorization"),
        websocket.args.get("access_token"),
        websocket.requested_subprotocols,
    )


async def stream_events(
    bus: EventBus, subscriber: Subscriber, viewer: Viewer, *, since: int | None
) -> None:
    """Accept the socket and serve it until a close reason arises; close with it."""
    try:
        await websocket.accept(
            headers={"X-Request-ID": g.request_id}, subprotocol=_subprotocol()
        )
    except BaseException:
        bus.broker.discard(subscriber)
        raise
    metrics.subscriber_opened("websocket")
    try:
        code = await serve(
            subscriber, viewer, since, _deliver(subscriber), _read(subscriber)
        )
        logger.info(
            "order-events subscriber closed",
            extra={"close_code": code, "user_id": viewer.user_id},
        )
        # A client that stopped reading cannot take the close frame either; the
        # connection is then dropped by Hypercorn's read_timeout (it sends no
        # pongs), and the linger ends on its silence.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await websocket.close(code)
        await _linger()
    finally:
        # A lingering socket still counts against its user's limit.
        bus.broker.discard(subscriber)
        metrics.subscriber_closed("websocket")


def _subprotocol() -> str | None:
    """`bearer` when the client offered it (its token came that way): a client
    that offers subprotocols fails a handshake that selects none."""
    offered = websocket.requested_subprotocols
    return BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in offered else None


def _deliver(subscriber: Subscriber) -> Deliver:
    watchdog: SendWatchdog = extensions.send_watchdog()
    send = websocket.send  # resolved once, not per frame

    async def deliver(frame: Frame) -> None:
        watchdog.started(subscriber)  # it closes the socket (1013) if this stalls
        try:
            await send(frame.text)
        finally:
            watchdog.finished(subscriber)
        metrics.order_event_delivered("websocket")

    return deliver


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
