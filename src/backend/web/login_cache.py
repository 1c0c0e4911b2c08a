"""A per-process cache of live logins, so an authenticated read skips the check.

Every authenticated request verifies its access token (expiry on every use;
the signature and claims once per token per process, `security.tokens`) and
then checks its login session in the database: not revoked, not expired, user
active, token version current. For a read that is one round trip of two or
three. This cache remembers, per login session, that the check passed (the
user id, token version, role and when the session ends), and is kept exact by
the same two mechanisms as the product cache (`web.product_cache`):

* **This host** (every worker, any database): host-wide change stamps by user
  id (`host.change_stamps`, kind `logins`). Whatever ends a login (logout,
  logout everywhere, a password change or reset, refresh-token reuse,
  deactivation, a role change) marks the user (`commit_hooks.
  mark_logins_changed`); the stamp is written as soon as the transaction ends,
  before that request answers. A hit compares the stamp stored with the entry
  to the current one, so any request that starts after the revoking one
  answered, on any worker of the host, checks the database again.
* **Other hosts** (PostgreSQL): the same marks NOTIFY the user ids on
  `login_changes`, which PostgreSQL delivers at commit; every worker's event
  bus evicts them. The bound is that delivery, typically a millisecond or two.
  While the bus's listener is reconnecting nothing is cached, and the cache is
  emptied once it is back.

A check races a concurrent revocation safely: it takes a `Ticket` (the user's
stamp and the cache's eviction count) before asking the database and stores
its result only if neither moved, so a "live" read just before a revocation
committed is never stored after the revocation was heard of.

Changes made behind the service's back (psql) are seen within
`LOGIN_CACHE_TTL` seconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from quart import Quart
from sqlalchemy.engine import URL

from backend import events, extensions
from backend.db import commit_hooks
from backend.host.change_stamps import ChangeStamps, mark_changed_of
from backend.security.tokens import AccessClaims
from backend.services.logins import LiveLogin, TokenLogin
from backend.services.order_events import EventRow
from backend.web.notified_eviction import NotifiedEviction

STAMP_KIND = "logins"
NOTIFY_CHANNEL = commit_hooks.LOGIN_CHANGES_CHANNEL
# An entry lives a random share of LOGIN_CACHE_TTL, from this one to all of it.
_SHORTEST_LIFETIME = 0.5


@dataclass(frozen=True, slots=True)
class _Entry:
    login: LiveLogin
    stamp: int
    session_ends: float  # the login session's expiry, epoch seconds
    expires_at: float  # the entry's, monotonic


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the cache looked like before a check of the database."""

    stamp: int
    evictions: int


class LoginCache(NotifiedEviction):
    """Live logins by login-session id, in one process; see the module docstring."""

    def __init__(
        self,
        stamps: ChangeStamps,
        *,
        max_entries: int,
        ttl: float,
        enabled: bool = True,
    ) -> None:
        self._stamps = stamps
        self._max_entries = max_entries
        self._ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._sessions_of: dict[int, set[str]] = {}  # user id -> session ids
        self._evictions = 0
        # Off while revocations elsewhere could go unheard (see `on_deaf`).
        self.enabled = enabled

    def lookup(self, claims: AccessClaims) -> LiveLogin | None:
        """The live login of verified `claims`, if this worker knows it is live."""
        entry = self._entries.get(claims.session_id)
        if entry is None:
            return None
        login = entry.login
        if login.user_id != claims.user_id or login.token_version != (
            claims.token_version
        ):
            return None  # another token of the session: let the database decide
        if (
            entry.stamp != self._stamps.current(login.user_id)
            or entry.session_ends <= time.time()
            or entry.expires_at <= time.monotonic()
        ):
            self._forget(claims.session_id)
            return None
        return login

    def ticket(self, user_id: int) -> Ticket:
        """Take before checking the database; pass to `store` with what it said."""
        return Ticket(self._stamps.current(user_id), self._evictions)

    def store(self, ticket: Ticket, checked: TokenLogin) -> None:
        """Keep a login checked after `ticket`, unless anything changed since."""
        login = checked.login
        if not self.enabled or ticket.evictions != self._evictions:
            return
        if ticket.stamp != self._stamps.current(login.user_id):
            return
        if len(self._entries) >= self._max_entries:
            self._forget(next(iter(self._entries)))  # the oldest entry
        lifetime = self._ttl * random.uniform(_SHORTEST_LIFETIME, 1.0)
        self._sessions_of.setdefault(login.user_id, set()).add(login.session_id)
        self._entries[login.session_id] = _Entry(
            login,
            ticket.stamp,
            _epoch(checked.session_expires_at),
            time.monotonic() + lifetime,
        )

    def evict(self, user_ids: Iterable[int]) -> None:
        self._evictions += 1
        for user_id in user_ids:
            for session_id in self._sessions_of.pop(user_id, ()):
                self._entries.pop(session_id, None)

    def _forget(self, session_id: str) -> None:
        entry = self._entries.pop(session_id, None)
        if entry is not None:
            sessions = self._sessions_of.get(entry.login.user_id)
            if sessions is not None:
                sessions.discard(session_id)
                if not sessions:
                    del self._sessions_of[entry.login.user_id]

    # The PostgreSQL event bus drives these (see `events.BusListener`).
    channel = NOTIFY_CHANNEL

    def on_order_events(self, rows: Sequence[EventRow]) -> None:
        """Order events change no login."""

    def clear(self) -> None:
        self._evictions += 1
        self._entries.clear()
        self._sessions_of.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _mark_changed(url: URL, user_ids: Iterable[int]) -> None:
    mark_changed_of(STAMP_KIND, url, user_ids)


def init_app(app: Quart) -> None:
    """Cache while serving, if configured and the app has a real engine."""

    async def start() -> None:
        settings = extensions.settings(app)
        engine = extensions.database(app).engine
        # No engine: tests bound one connection whose transaction never commits.
        if engine is None or settings.login_cache_size == 0:
            return
        # On PostgreSQL other hosts may revoke too: cache only while their
        # notifications can be heard, from the bus listener's first connection.
        cache = LoginCache(
            ChangeStamps.for_database(engine.url, STAMP_KIND),
            max_entries=settings.login_cache_size,
            ttl=settings.login_cache_ttl,
            enabled=settings.is_sqlite,
        )
        if not settings.is_sqlite:
            events.listen(app, cache)
        app.extensions[extensions.LOGIN_CACHE] = cache
        # This process's revocations stamp the host's file as their
        # transactions end, before their requests answer.
        unsubscribe.append(commit_hooks.on_logins_changed(_mark_changed))

    async def stop() -> None:
        while unsubscribe:
            unsubscribe.pop()()

    unsubscribe: list[Callable[[], None]] = []
    app.before_serving(start)
    app.after_serving(stop)
