"""One session per request: created lazily, committed on 2xx, always closed.

A request gets its session from `get_session()`. `after_request` commits it
when the response is 2xx and rolls it back otherwise; teardown always closes it.
"""

from __future__ import annotations

from quart import Quart, Response, g, request
from sqlalchemy.ext.asyncio import AsyncSession

from backend import extensions
from backend.db.database import Database

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Quart, database: Database) -> None:
    """Put `database` on the app, connected while it serves, one session a request."""
    app.extensions[extensions.DATABASE] = database
    app.before_serving(database.connect)
    app.after_serving(database.dispose)
    app.after_request(_finish_request_session)
    app.teardown_appcontext(_close_request_session)


def get_session() -> AsyncSession:
    """The current request's session, created on first use."""
    session: AsyncSession | None = g.get("db_session")
    if session is None:
        readonly = request.method in _SAFE_METHODS
        session = extensions.database().new_session(readonly=readonly)
        g.db_session = session
    return session


async def _finish_request_session(response: Response) -> Response:
    session: AsyncSession | None = g.get("db_session")
    if session is not None:
        if 200 <= response.status_code < 300:
            await session.commit()
        else:
            await session.rollback()
    return response


async def _close_request_session(_exc: BaseException | None) -> None:
    session: AsyncSession | None = g.pop("db_session", None)
    if session is not None:
        await session.close()
