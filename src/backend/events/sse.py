"""The Server-Sent Events transport of an order-events subscription.

The response body is an async generator that Quart iterates, sending each
chunk it yields. `serve` (events/subscription.py) runs beside it in a task and
hands frames over through a small bounded channel, so a client that reads
slowly holds the sender back and its queue fills (then it is disconnected, as
on the websocket). The generator writes a `retry:` hint first, a comment line whenever
nothing was sent for `SSE_HEARTBEAT` seconds, and ends once `serve` returns:
the token expired, the session was revoked, the server is draining, or the
subscriber fell behind. EventSource then reconnects with `Last-Event-ID`.

Quart sends a chunk from its own task, which nothing here can interrupt. A send
stalled by a client that stopped reading is timed by the send watchdog like a
websocket frame; once the subscription is closed, a send still stalled after
CLOSE_GRACE_SECONDS has its request task cancelled, which drops the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator

from quart import Response

from backend import extensions, metrics
from backend.config import Settings
from backend.events.bus import EventBus, Frame, Subscriber
from backend.events.subscription import (
    Viewer,
    new_subscriber,
    per_user_limit,
    serve,
    too_many_subscriptions,
)
from backend.events.watchdog import SendWatchdog

# How long EventSource waits before reconnecting after the stream ends.
RETRY_MS = 3000
HEARTBEAT = b": heartbeat\n\n"
CLOSE_GRACE_SECONDS = 2.0
# Messages waiting for the body; those waiting together go out as one chunk,
# so a stream that fell behind catches up with fewer, larger writes.
CHANNEL_SIZE = 32
logger = logging.getLogger(__name__)


def event_stream(bus: EventBus, viewer: Viewer, *, since: int | None) -> Response:
    """A `text/event-stream` response carrying `viewer`'s events; 429 when the
    user already holds too many connections."""
    if not bus.broker.has_room(viewer.user_id, per_user_limit=per_user_limit()):
        raise too_many_subscriptions()
    stream = _Stream(bus, new_subscriber(viewer), viewer, since)
    response = Response(
        stream.chunks(),
        mimetype="text/event-stream",
        # No caching, and no buffering by proxies that honour the header (nginx).
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    response.timeout = None  # Quart's RESPONSE_TIMEOUT would cut the stream
    return response


class _Stream:
    """One response body: admission, the chunks, and cleanup however it ends."""

    def __init__(
        self, bus: EventBus, subscriber: Subscriber, viewer: Viewer, since: int | None
    ) -> None:
        settings: Settings = extensions.settings()
        self._bus = bus
        self._subscriber = subscriber
        self._viewer = viewer
        self._since = since
        self._limit = per_user_limit()
        self._heartbeat = settings.sse_heartbeat
        self._watchdog: SendWatchdog = extensions.send_watchdog()
        # The body runs after the request context is gone; `serve` needs the app.
        self._context = contextvars.copy_context()
        self._channel: asyncio.Queue[bytes] = asyncio.Queue(CHANNEL_SIZE)
        self._events_in_chunk = 0  # messages in the chunk being sent
        self._waiting: asyncio.Timeout | None = None
        self._sending = False
        self._consumer: asyncio.Task[object] | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        # Admitted here, not when the response was made: a body that is never
        # iterated (the client left first) then holds no place in the limit.
        if not self._bus.broker.admit(self._subscriber, per_user_limit=self._limit):
            return  # another stream of this user took the last place meanwhile
        self._consumer = asyncio.current_task()
        serving = asyncio.create_task(
            serve(self._subscriber, self._viewer, self._since, self._deliver),
            context=self._context,
        )
        serving.add_done_callback(self._on_closed)
        metrics.subscriber_opened("sse")
        try:
            chunk: bytes | None = f"retry: {RETRY_MS}\n\n".encode()
            while chunk is not None:
                self._watchdog.started(self._subscriber)
                self._sending = True
                try:
                    yield chunk
                finally:
                    self._sending = False
                    self._watchdog.finished(self._subscriber)
                for _ in range(self._events_in_chunk):  # sent: Quart resumed us
                    metrics.order_event_delivered("sse")
                chunk = await self._next(serving)
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            self._bus.broker.discard(self._subscriber)
            metrics.subscriber_closed("sse")
            logger.info(
                "order-events stream ended",
                extra={
                    "close_code": self._subscriber.close_code,
                    "user_id": self._viewer.user_id,
                },
            )

    async def _deliver(self, frame: Frame) -> None:
        await self._channel.put(frame.sse)

    async def _next(self, serving: asyncio.Task[int]) -> bytes | None:
        """The messages waiting (at least one), a heartbeat after an idle
        interval, or None once the subscription is closed."""
        self._events_in_chunk = 0
        if serving.done():
            return None
        if self._channel.empty():
            try:
                async with asyncio.timeout(self._heartbeat) as self._waiting:
                    first = [await self._channel.get()]
            except TimeoutError:
                return None if serving.done() else HEARTBEAT
            finally:
                self._waiting = None
        else:
            first = []
        rest = [self._channel.get_nowait() for _ in range(self._channel.qsize())]
        self._events_in_chunk = len(first) + len(rest)
        return b"".join(first + rest)

    def _on_closed(self, _serving: asyncio.Task[int]) -> None:
        loop = asyncio.get_running_loop()
        if self._waiting is not None:
            self._waiting.reschedule(loop.time())  # end the wait now
        elif self._sending:
            loop.call_later(CLOSE_GRACE_SECONDS, self._cut_stalled_send)

    def _cut_stalled_send(self) -> None:
        if self._sending and self._consumer is not None:
            self._consumer.cancel()
