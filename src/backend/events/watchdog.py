"""The send timeout of event sockets: one sweep for all of them, not a timer each."""

from __future__ import annotations

import asyncio
import time

from backend.events.bus import CLOSE_TRY_AGAIN_LATER, Subscriber

SWEEP_SECONDS = 1.0


class SendWatchdog:
    """Closes with 1013 a subscriber whose frame has not gone out in `timeout` s.

    A client that stops reading fills its TCP window, and then the send waits.
    A timer per frame would notice that too, but one event goes out to
    thousands of sockets at once and the timers would cost more than the sends;
    a sweep a second costs nothing per frame and closes such a socket between
    `timeout` and `timeout` + 1 s after its frame was due.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._deadlines: dict[Subscriber, float] = {}

    def started(self, subscriber: Subscriber) -> None:
        """A frame to `subscriber` is being sent; call `finished` after, always."""
        self._deadlines[subscriber] = time.monotonic() + self._timeout

    def finished(self, subscriber: Subscriber) -> None:
        self._deadlines.pop(subscriber, None)

    def sweep(self, now: float) -> None:
        for subscriber, deadline in list(self._deadlines.items()):
            if deadline <= now:
                subscriber.close(CLOSE_TRY_AGAIN_LATER)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.sweep(time.monotonic())
