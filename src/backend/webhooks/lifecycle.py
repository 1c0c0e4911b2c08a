"""Webhooks while the app serves: the shared HTTP client and the dispatcher's waker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence

from quart import Quart
from sqlalchemy.exc import SQLAlchemyError

from backend import events, extensions
from backend.db.database import Database
from backend.jobs import lifecycle as jobs_lifecycle
from backend.metrics import web as metrics_web
from backend.webhooks import delivery, dispatch, metrics

# Coalesces a burst of events into one look (and at most one dispatch job).
DEBOUNCE_SECONDS = 0.05
# Without a wake-up, look this often: SQLite's other workers' commits reach
# no bus listener, and PostgreSQL's NOTIFY can be missed while reconnecting.
SQLITE_POLL_SECONDS = 0.25
POSTGRES_POLL_SECONDS = 5.0
logger = logging.getLogger(__name__)


class DispatchWaker:
    """Asks for a dispatch soon after order events commit; one per process."""

    # The bus LISTENs on every listener's channel; nothing NOTIFYs on this one.
    channel = "webhook_dispatch"

    def __init__(self, database: Database, poll: float) -> None:
        self.database = database
        self.poll = poll
        self._wake = asyncio.Event()

    def on_order_events(self, rows: Sequence[object]) -> None:
        self._wake.set()

    def on_payload(self, payload: str) -> None:
        pass

    def on_listening(self) -> None:
        self._wake.set()  # whatever committed while deaf

    def on_deaf(self) -> None:
        pass

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self._wake.clear()
            try:
                await dispatch.request_dispatch(self.database)
            except (SQLAlchemyError, OSError):
                logger.warning("webhook dispatcher cannot reach the database")
                await asyncio.sleep(1.0)


def init_app(app: Quart) -> None:
    """Call before `jobs.lifecycle.init_app`: the client outlives the job runner."""
    settings = extensions.settings(app)
    poll = SQLITE_POLL_SECONDS if settings.is_sqlite else POSTGRES_POLL_SECONDS
    database = extensions.database(app)
    waker = DispatchWaker(database, poll)
    events.listen(app, waker)

    async def refresh_metrics() -> None:
        await metrics.refresh_oldest_undelivered_age(database)

    metrics_web.on_scrape(app, refresh_metrics)

    async def serve() -> AsyncGenerator[None, None]:
        client = delivery.new_client()
        runner = app.extensions["job_runner"]  # made by jobs.lifecycle.init_app
        runner.resources[delivery.HTTP_CLIENT] = client
        waking = None
        if jobs_lifecycle.runs_jobs(app):
            waking = asyncio.create_task(waker.run(), name="webhook-dispatch-waker")
        yield
        if waking is not None:
            waking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waking
        await client.close()

    app.while_serving(serve)
