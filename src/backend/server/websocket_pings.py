"""Hypercorn's websocket pings stop when the server shuts down.

Why a server that had served any websocket took its whole `graceful_timeout`
to exit on SIGTERM, even after every client had closed: Hypercorn (0.18) pings
each accepted websocket from a task in the connection's task group,

    while not self.closed:
        send a ping
        await sleep(websocket_ping_interval)    # 20 s here

and the connection's task ends only when every task of its group has ended.
When the client closes, the stream is marked closed but the ping task sleeps
on for up to an interval; on shutdown Hypercorn waits for every connection
task (up to `graceful_timeout`, 10 s) and so waited for those sleeps, then
cancelled them. Nothing else was left to do.

The replacement below sleeps the same interval but wakes when the worker
starts to shut down (Hypercorn's `context.terminated`, set as soon as the
worker stops accepting). From then on it sends no more pings and ends as soon
as its socket does, so a worker exits once its last request and socket are
done. Sockets still open are closed by the drain (`backend.server.lifecycle`), so the
wait that remains is theirs.
"""

from __future__ import annotations

import asyncio
import contextlib

from hypercorn.protocol.ws_stream import WSStream
from wsproto.events import Ping

# While shutting down, how often a ping task checks whether its socket has ended.
SHUTDOWN_POLL_SECONDS = 0.05
# Read at import so that a Hypercorn without this method fails at start, loudly.
_ORIGINAL = WSStream._send_pings


async def _send_pings(self: WSStream) -> None:
    interval = self.config.websocket_ping_interval
    terminated = self.context.terminated
    while not self.closed:
        await self._send_wsproto_event(Ping())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await terminated.wait()
            break
    # Hypercorn marks a closed stream with a flag only, no event to await; this
    # polling runs during shutdown only.
    while not self.closed:  # noqa: ASYNC110
        await asyncio.sleep(SHUTDOWN_POLL_SECONDS)


def install() -> None:
    """Replace Hypercorn's ping loop in this process (idempotent)."""
    WSStream._send_pings = _send_pings  # type: ignore[method-assign]
