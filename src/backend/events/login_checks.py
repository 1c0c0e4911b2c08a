"""Re-checking many websockets' logins with few queries.

Every open socket re-checks, every few seconds, that its login session is
still live (not revoked, not expired, user active, token version current). One
query per socket would cost thousands of queries a second at ten thousand
sockets; instead the checks that arrive within a short window share one query.
"""

from __future__ import annotations

import asyncio

from backend.db.database import Database
from backend.db.failures import is_database_unavailable
from backend.services.logins import LiveLogin, live_logins

BATCH_WINDOW_SECONDS = 0.25


class LoginChecker:
    """Coalesces `is_live` calls into one query per `window` seconds."""

    def __init__(self, database: Database, window: float = BATCH_WINDOW_SECONDS):
        self._database = database
        self._window = window
        self._waiting: dict[LiveLogin, list[asyncio.Future[bool]]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def is_live(self, login: LiveLogin) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(login, []).append(answer)
        if self._flush is None:
            self._flush = asyncio.create_task(self._answer_soon())
        return await answer

    async def _answer_soon(self) -> None:
        await asyncio.sleep(self._window)
        waiting, self._waiting, self._flush = self._waiting, {}, None
        try:
            async with self._database.session(readonly=True) as session:
                live = await live_logins(session, waiting)
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            live = set(waiting)  # an outage is not a revocation; ask again later
        for login, answers in waiting.items():
            for answer in answers:
                if not answer.done():
                    answer.set_result(login in live)
