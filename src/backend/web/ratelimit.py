"""Fixed-window rate limits for the auth routes, per address and per account.

Counters are shared by every worker of a host through a small SQLite file in
the private host directory (`host.counters`: a multi-worker server must not
multiply the budget by its worker count); with `REDIS_URL` they live in
Redis, so every worker of every host spends one budget. In-process tests
use plain memory.

We do not use quart-rate-limiter: its limits are keyed by one function per
route, while login needs two keys at once (the client address and the typed
account name, which is in the body), and both must be spent before the
password is checked. A few lines over `INCR` + `PEXPIRE` in one Lua script
(atomic on the Redis server) do exactly that, and the same `Counter` interface
serves the host-file and in-memory variants.

Routes declare their limits with `@rate_limit(...)` (below `validate_request`,
so key functions see the body) or opt out with `@rate_exempt(reason)`; an
architecture test fails for an auth route that does neither.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, Protocol, TypeVar

from quart import Quart, request
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from backend import extensions
from backend.config import RateLimit, Settings
from backend.errors import RateLimited, ServiceUnavailable
from backend.host.counters import HostCounter

P = ParamSpec("P")
R = TypeVar("R")
LIMITS_ATTR = "_rate_limits"
EXEMPT_ATTR = "_rate_limit_exempt"
_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""


class Counter(Protocol):
    async def hit(self, key: str, period: int) -> tuple[int, float]:
        """Count one hit; the window's count so far and seconds until it resets."""


class MemoryCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, period: int) -> tuple[int, float]:
        now = time.monotonic()
        if len(self._windows) > 10_000:  # forget windows that have ended
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        reset_at, count = self._windows.get(key, (0.0, 0))
        if reset_at <= now:
            reset_at, count = now + period, 0
        self._windows[key] = (reset_at, count + 1)
        return count + 1, reset_at - now


class RedisCounter:
    """Counters in Redis, shared by every host of one database.

    Keys carry the database's name: budgets are keyed by account id, and ids
    mean something only within one database, so two databases (a staging
    copy, parallel test runs) sharing one Redis must not share budgets.
    """

    def __init__(self, url: str, *, database_url: str) -> None:
        self._redis = aioredis.from_url(url)
        self._script = self._redis.register_script(_SCRIPT)
        self._namespace = make_url(database_url).database or "default"

    async def hit(self, key: str, period: int) -> tuple[int, float]:
        key = f"{self._namespace}:{key}"
        try:
            count, ttl_ms = await self._script(keys=[key], args=[period * 1000])
        except RedisError as error:
            raise ServiceUnavailable("The rate limiter is unavailable.") from error
        return int(count), max(int(ttl_ms), 0) / 1000

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """The app's counters; see `extensions.rate_limiter`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.counter: Counter = MemoryCounter()

    def init_app(self, app: Quart) -> None:
        app.extensions[extensions.RATE_LIMITER] = self
        if self.settings.redis_url:
            redis_counter = RedisCounter(
                self.settings.redis_url, database_url=self.settings.database_url
            )
            self.counter = redis_counter
            app.after_serving(redis_counter.close)
        elif self.settings.app_env != "testing":
            host_counter = HostCounter.for_database(self.settings.database_url)
            self.counter = host_counter
            app.before_serving(host_counter.open)  # a bad file stops the start
            app.after_serving(host_counter.close)

    async def hit(self, scope: str, key: str, limit: RateLimit) -> None:
        """Spend one unit of `key`'s budget; 429 once it is used up."""
        if not limit.enabled:
            return
        count, reset_in = await self.counter.hit(f"rl:{scope}:{key}", limit.period)
        if count > limit.count:
            raise RateLimited(math.ceil(reset_in))


def client_address() -> str:
    """The socket peer, or the client named by the trusted proxies in front."""
    hops = extensions.settings().trusted_proxy_hops
    peer = request.remote_addr or "unknown"
    if hops <= 0:
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    chain = [part.strip() for part in forwarded.split(",") if part.strip()]
    # Each trusted proxy appended the address it saw; earlier entries are the
    # client's own claims and may be forged.
    return chain[-hops] if len(chain) >= hops else (chain[0] if chain else peer)


@dataclass(frozen=True, slots=True)
class Limit:
    """`scope` shares a budget across routes; `key` picks whose budget it is.

    A key may be a coroutine: the login's account key looks the account up, so
    that every way of typing one account spends one budget.
    """

    scope: str
    setting: Callable[[Settings], RateLimit]
    key: Callable[[dict[str, Any]], str | Awaitable[str]] = lambda _kwargs: (
        client_address()
    )


def rate_limit(*limits: Limit) -> Callable[[Callable[P, Awaitable[R]]], Any]:
    """Spend every limit's budget before the view runs."""

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            limiter: RateLimiter = extensions.rate_limiter()
            for limit in limits:
                key = limit.key(dict(kwargs))
                if inspect.isawaitable(key):
                    key = await key
                await limiter.hit(limit.scope, key, limit.setting(limiter.settings))
            return await view(*args, **kwargs)

        setattr(wrapper, LIMITS_ATTR, limits)
        return wrapper

    return decorator


def spent_by_service(limit: Limit) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare `limit` on a route whose service decides when to spend it.

    For work that is not always done: `POST /orders` answers an idempotent
    replay without placing anything, and a replay must not spend the budget.
    The view passes `budget(limit)` to the service, which calls it once it
    knows it places an order.
    """

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        setattr(view, LIMITS_ATTR, (limit,))
        return view

    return decorator


def budget(limit: Limit, **kwargs: Any) -> Callable[[], Awaitable[None]]:
    """Spending one unit of `limit` for this request, when the caller calls it."""
    limiter: RateLimiter = extensions.rate_limiter()
    key = limit.key(kwargs)
    setting = limit.setting(limiter.settings)

    async def spend() -> None:
        resolved = await key if inspect.isawaitable(key) else key
        await limiter.hit(limit.scope, resolved, setting)

    return spend


def rate_exempt(reason: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a route as deliberately unlimited; `reason` says why."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        setattr(view, EXEMPT_ATTR, reason)
        return view

    return decorator
