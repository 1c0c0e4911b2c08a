"""Order event bus: the durable event table, fanned out to this process's sockets.

EventBus            start(), stop(), broker (the subscribers of this process)
├── InMemoryBus     published by the committing session (tests on one connection)
└── TableBus        reads `order_event` after a cursor, in id order
    ├── SQLiteBus   woken by local commits; polls for other workers' commits
    └── PostgresBus woken by LISTEN/NOTIFY (any workers, any hosts)

Live order events: the bus, table readers, socket and stream, send watchdog,
login checks. May import `db`, `services`, `models`, `schemas`, `web` (guards)
and `server` (drain); nothing under `services`, `models` or `schemas` imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from quart import Quart

from backend import extensions
from backend.config import Settings
from backend.events.bus import (
    CLOSE_GOING_AWAY,
    CLOSE_TRY_AGAIN_LATER,
    Broker,
    EventBus,
    Frame,
    InMemoryBus,
    Subscriber,
    encode_frame,
)
from backend.events.login_checks import LoginChecker
from backend.events.table import BusListener, PostgresBus, SQLiteBus
from backend.events.watchdog import SendWatchdog
from backend.server import lifecycle

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_TRY_AGAIN_LATER",
    "Broker",
    "BusListener",
    "EventBus",
    "Frame",
    "InMemoryBus",
    "PostgresBus",
    "SQLiteBus",
    "Subscriber",
    "encode_frame",
    "init_app",
    "listen",
]

_LISTENERS = "bus_listeners"


def init_app(app: Quart) -> None:
    """Run the bus while the app serves: after the database, before its disposal."""

    async def serve_bus() -> AsyncGenerator[None, None]:
        bus = app.extensions[extensions.BUS] = _choose_bus(app)
        await bus.start()
        sweeping = asyncio.create_task(watchdog.run(), name="send-watchdog")
        yield
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        await bus.stop()

    settings: Settings = extensions.settings(app)
    watchdog = app.extensions[extensions.SEND_WATCHDOG] = SendWatchdog(
        settings.ws_send_timeout
    )
    app.while_serving(serve_bus)
    app.extensions[extensions.LOGIN_CHECKER] = LoginChecker(extensions.database(app))
    # Sockets are closed with 1001 and event streams end as soon as the server
    # drains, so they do not hold the graceful shutdown up; they reconnect
    # elsewhere with `since` (or `Last-Event-ID`).
    lifecycle.on_drain(
        app, lambda: extensions.bus(app).broker.close_all(CLOSE_GOING_AWAY)
    )


def listen(app: Quart, listener: BusListener) -> None:
    """Tell `listener` what the PostgreSQL bus hears; call before serving."""
    app.extensions.setdefault(_LISTENERS, []).append(listener)


def _choose_bus(app: Quart) -> EventBus:
    settings: Settings = extensions.settings(app)
    database = extensions.database(app)
    # No engine means tests bound one connection whose transaction never
    # commits: there is no table state to read, and only this process anyway.
    if database.engine is None:
        return InMemoryBus()
    if settings.is_sqlite:
        return SQLiteBus(database, settings)
    return PostgresBus(database, settings, app.extensions.get(_LISTENERS, ()))
