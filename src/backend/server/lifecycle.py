"""The server's lifecycle as the app needs to see it: when draining begins.

Hypercorn runs the app's shutdown hooks only after every open connection has
ended or `graceful_timeout` has passed. A websocket never ends on its own, so
without an earlier signal it would hold the shutdown up and then be cut off
with 1011. In a Hypercorn worker this module watches the master's shutdown
event (the same one the worker itself polls) and runs the app's drain
callbacks as soon as it is set; the event bus uses that to close subscribers
with 1001. Outside a Hypercorn worker there is nothing to watch: shutdown
hooks come first there.

It also keeps SIGTERM from killing a worker mid-drain (see `_guard_sigterm`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncGenerator, Callable
from typing import Any

from quart import Quart

from backend.server import websocket_pings

DRAIN_POLL_SECONDS = 0.1
logger = logging.getLogger(__name__)


def on_drain(app: Quart, callback: Callable[[], None]) -> None:
    """Call `callback` once, when the server starts draining connections."""
    app.extensions.setdefault("drain_callbacks", []).append(callback)


def init_app(app: Quart) -> None:
    websocket_pings.install()
    app.while_serving(_watch_for_drain(app))


def _watch_for_drain(app: Quart) -> Callable[[], AsyncGenerator[None, None]]:
    async def watching() -> AsyncGenerator[None, None]:
        shutdown_event = hypercorn_shutdown_event()
        if shutdown_event is None:
            yield
            return
        _guard_sigterm()
        watcher = asyncio.create_task(_wait_then_drain(app, shutdown_event))
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    return watching


def hypercorn_shutdown_event() -> Any:
    """The master's shutdown event, when this process is a Hypercorn worker.

    Hypercorn spawns each worker with the event as a keyword argument of the
    worker function, and a spawned process keeps its own `Process` object.
    """
    if multiprocessing.parent_process() is None:
        return None
    kwargs = getattr(multiprocessing.current_process(), "_kwargs", None) or {}
    return kwargs.get("shutdown_event")


async def _wait_then_drain(app: Quart, shutdown_event: Any) -> None:
    # A multiprocessing event cannot be awaited; Hypercorn polls it the same way.
    while True:
        await asyncio.sleep(DRAIN_POLL_SECONDS)
        if shutdown_event.is_set():
            break
    logger.info("server is draining; ending long-lived connections")
    for callback in app.extensions.get("drain_callbacks", []):
        callback()


def _guard_sigterm() -> None:
    """Let SIGTERM not cut a worker's graceful drain short.

    Hypercorn's master stops its workers through the shared event and each
    drains for up to `graceful_timeout`; but as soon as one worker has exited,
    the master SIGTERMs the others, whose default action kills them with
    requests still in flight. While the master lives it is driving the
    shutdown, so the signal is ignored; an orphaned worker still exits on it.
    """
    master = os.getppid()

    def on_sigterm() -> None:
        if os.getppid() != master:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        logger.info("SIGTERM while draining; finishing first")

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)
