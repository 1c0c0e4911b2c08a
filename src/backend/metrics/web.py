"""`/metrics`, the per-request hook and the pool listeners (the Quart side).

In a Hypercorn worker the values live in the server's metrics directory
(`metrics.multiprocess`), so whichever worker answers a scrape reports every
worker's; in a single process they live in memory.

Access: with `METRICS_TOKEN` set, `Authorization: Bearer <token>` or 401;
without it the route is open in development and testing, and answers 404 in
production, as if it did not exist.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import generate_latest
from quart import Blueprint, Quart, Response, current_app, g, request
from quart_schema import hide
from sqlalchemy import event

from backend import extensions
from backend.config import Settings
from backend.errors import NotAuthenticated, NotFound
from backend.metrics import instruments, multiprocess

# The text format version the contract names (0.0.4), whatever the library's default.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCRAPE_HOOK_TIMEOUT = 5.0
UNMATCHED = "<unmatched>"  # 404s for unknown paths: one label, not one per path

logger = logging.getLogger(__name__)
blueprint = Blueprint("metrics", __name__)
ScrapeHook = Callable[[], Awaitable[None]]


def init_app(app: Quart) -> None:
    settings: Settings = app.extensions["settings"]
    if not settings.metrics_enabled:
        instruments.configure(None)  # what services record stays in memory
        return
    if multiprocess.in_worker():
        directory = multiprocess.server_directory()
        multiprocess.prepare(directory)
        instruments.configure(directory)
        app.after_serving(_worker_exiting)
    else:
        instruments.configure(None)
    # First, so that the time covers the other hooks (auth, rate limits) too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_record_request)
    app.before_serving(_watch_pool)
    app.register_blueprint(blueprint)


def on_scrape(app: Quart, hook: ScrapeHook) -> None:
    """Run `hook` before each `/metrics` answer (e.g. to read job counts)."""
    app.extensions.setdefault("metrics_scrape_hooks", []).append(hook)


async def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


async def _record_request(response: Response) -> Response:
    started: float | None = g.get("metrics_started")
    if started is not None:
        rule = request.url_rule
        instruments.http_request(
            rule.rule if rule is not None else UNMATCHED,
            request.method,
            response.status_code,
            time.perf_counter() - started,
        )
    return response


async def _watch_pool() -> None:
    engine = extensions.database().engine
    if engine is None:  # tests bind one connection; there is no pool to watch
        return
    event.listen(engine.sync_engine, "checkout", _checked_out)
    event.listen(engine.sync_engine, "checkin", _checked_in)


def _checked_out(*_: Any) -> None:
    instruments.pool_checked_out(1)


def _checked_in(*_: Any) -> None:
    instruments.pool_checked_out(-1)


async def _worker_exiting() -> None:
    directory = instruments.multiprocess_directory()
    if directory is not None:
        multiprocess.worker_exiting(directory)


def _authorize(settings: Settings) -> None:
    token = settings.metrics_token
    if token is None:
        if settings.app_env == "production":
            raise NotFound()
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise NotAuthenticated("A valid metrics token is required.")


async def _run_scrape_hooks() -> None:
    for hook in current_app.extensions.get("metrics_scrape_hooks", []):
        # A failing hook (say, the database is down) must not hide every
        # other metric: the scrape goes on with that hook's last values.
        try:
            async with asyncio.timeout(SCRAPE_HOOK_TIMEOUT):
                await hook()
        except Exception:
            logger.exception("metrics scrape hook failed", extra={"hook": repr(hook)})


@blueprint.get("/metrics")
@hide
async def metrics_endpoint() -> Response:
    """Prometheus text exposition of every worker's metrics."""
    _authorize(current_app.extensions["settings"])
    await _run_scrape_hooks()
    directory = instruments.multiprocess_directory()
    if directory is None:
        body = generate_latest(instruments.instruments().registry)
    else:
        body = await asyncio.to_thread(multiprocess.exposition, directory)
    return Response(body, content_type=CONTENT_TYPE)
