"""Waking this process's job runners when one of its own transactions enqueued.

Other processes hear of a new job through PostgreSQL's NOTIFY or their poll;
a commit in this process wakes its runners directly, with no round trip.
"""

from __future__ import annotations

import asyncio

_runner_events: set[asyncio.Event] = set()


def register(event: asyncio.Event) -> None:
    _runner_events.add(event)


def unregister(event: asyncio.Event) -> None:
    _runner_events.discard(event)


def wake_local_workers() -> None:
    for event in _runner_events:
        event.set()
