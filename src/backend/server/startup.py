"""A worker that cannot start stops the whole server, and says why.

A Hypercorn worker whose start fails (a host file refused, say) exits with
status 1, but Hypercorn 0.18's master then reports status 0: its last
`_join_exited` overwrites the failed worker's status with that of the workers
still running (pgjones/hypercorn#269, fix pending in #372). A supervisor would
read that as a clean stop: no restart, no alert. So a worker whose start fails
logs the reason in one line, sets the master's shutdown event (the other
workers drain and leave) and kills the master, whose status then shows the
failure (killed by SIGKILL: 137 in a shell, `status=9/KILL` under systemd).

Outside a Hypercorn worker (one process, tests, `quart run`) a failed start
raises as usual and nothing else happens.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from quart import Quart

from backend.server.keep_alive import ASGIApp
from backend.server.lifecycle import hypercorn_shutdown_event

logger = logging.getLogger(__name__)


def init_app(app: Quart) -> None:
    """Stop the server when the app's startup hooks fail."""
    app.asgi_app = _stop_server_if_startup_fails(app.asgi_app)  # type: ignore[method-assign, assignment]


@contextmanager
def stop_server_on_failure() -> Iterator[None]:
    """Around building the app in a worker: a failure stops the server."""
    try:
        yield
    except Exception as error:
        stop_server(str(error))
        raise


def stop_server(reason: str) -> None:
    """Log why this worker cannot start; in a Hypercorn worker, end the server."""
    logger.critical("the server cannot start: %s", reason)
    shutdown_event = hypercorn_shutdown_event()
    if shutdown_event is None:
        return
    shutdown_event.set()
    os.kill(os.getppid(), signal.SIGKILL)


def _stop_server_if_startup_fails(app: ASGIApp) -> ASGIApp:
    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def watching_send(message: Any) -> None:
            if message["type"] == "lifespan.startup.failed":
                stop_server(message.get("message", ""))
            await send(message)

        await app(scope, receive, watching_send)

    return asgi_app
