"""Hypercorn's handling of inbound websocket frames after it sends a close frame.

Hypercorn 0.18 closes a socket whose message exceeds `websocket_max_message_size`
with 1009, then stops reading events at the first message fragment of each
later read: while the client is still sending, each arriving chunk is parsed
only up to its first fragment, the client's answering close frame is never
reached, and the connection hangs or is dropped without the close handshake.

`install()` replaces `WSStream._handle_events` with the same loop that, once
our close frame is out, discards message frames and keeps going, so the
client's close is read and answered as usual. A client that keeps sending
instead of answering is dropped after `CLOSE_LINGER_SECONDS`: by then our close
frame has long reached it. Memory stays bounded: discarded frames are not kept.
"""

from __future__ import annotations

import time
from typing import Any

from hypercorn.protocol import ws_stream
from hypercorn.protocol.events import StreamClosed
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection, Message, Ping
from wsproto.frame_protocol import CloseReason

CLOSE_LINGER_SECONDS = 2.0
_CLOSING_SINCE = "_backend_closing_since"


async def _handle_events(self: Any) -> None:
    for event in self.connection.events():
        if isinstance(event, Message):
            if self.connection.state is not ConnectionState.OPEN:
                # Our close frame is out: read and drop until the client's close.
                since = getattr(self, _CLOSING_SINCE, None)
                if since is None:
                    setattr(self, _CLOSING_SINCE, time.monotonic())
                elif time.monotonic() - since > CLOSE_LINGER_SECONDS:
                    await self.send(StreamClosed(stream_id=self.stream_id))
                    return
                continue
            try:
                self.buffer.extend(event)
            except ws_stream.FrameTooLargeError:
                self.buffer.clear()
                await self._send_wsproto_event(
                    CloseConnection(code=CloseReason.MESSAGE_TOO_BIG)
                )
                continue
            if event.message_finished:
                await self.app_put(self.buffer.to_message())
                self.buffer.clear()
        elif isinstance(event, Ping):
            await self._send_wsproto_event(event.response())
        elif isinstance(event, CloseConnection):
            if self.connection.state == ConnectionState.REMOTE_CLOSING:
                await self._send_wsproto_event(event.response())
            await self.send(StreamClosed(stream_id=self.stream_id))


def install() -> None:
    """Patch Hypercorn's websocket stream (idempotent; see the module docstring)."""
    ws_stream.WSStream._handle_events = _handle_events  # type: ignore[method-assign]
