"""Job kinds: each registered once, with its payload model, handler and retry policy."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.jobs.context import JobContext

P = TypeVar("P", bound=BaseModel)
Handler = Callable[["JobContext", P], Awaitable[None]]
Backoff = Callable[[int], float]
# A bound per concurrency key: a number, or one computed from the process's
# job slots (so a bound meant as "half the slots" follows JOB_CONCURRENCY).
ConcurrencyLimit = int | Callable[[int], int]


def exponential_backoff(base: float = 5.0, cap: float = 3600.0) -> Backoff:
    """Seconds before retry `attempt` (1 = after the first failure), +-20 % jitter.

    The jitter spreads retries of jobs that failed together (a mail server
    that was down) so they do not all come back in the same second.
    """

    def delay(attempt: int) -> float:
        return float(min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2))

    return delay


@dataclass(frozen=True, slots=True)
class JobKind(Generic[P]):
    name: str
    payload: type[P]
    handler: Handler[P]
    max_attempts: int
    backoff: Backoff
    # A run longer than this fails (and is retried): a hung handler must not
    # hold a worker slot forever.
    timeout: float
    # A backoff read from the settings (webhooks' WEBHOOK_RETRY_SCHEDULE);
    # when given, it replaces `backoff`.
    configured_backoff: Callable[[Settings], Backoff] | None = None
    # At most this many of the kind's jobs sharing a `concurrency_key` run at
    # once in one process; None: no bound (the key is ignored).
    concurrency_limit: ConcurrencyLimit | None = None

    def limit_per_key(self, slots: int) -> int | None:
        """The bound per concurrency key in a process running `slots` jobs at once."""
        limit = self.concurrency_limit
        if limit is None or isinstance(limit, int):
            return limit
        return max(1, limit(slots))

    def retry_delay(self, attempt: int, settings: Settings) -> float:
        """Seconds before retry `attempt` (1 = after the first failure)."""
        if self.configured_backoff is not None:
            return self.configured_backoff(settings)(attempt)
        return self.backoff(attempt)


class UnknownJobKind(LookupError):
    """Enqueueing or running a kind nobody registered: a programming error."""


_KINDS: dict[str, JobKind[Any]] = {}


def job_kind(
    name: str,
    payload: type[P],
    *,
    max_attempts: int = 10,
    backoff: Backoff | None = None,
    timeout: float = 300.0,
    configured_backoff: Callable[[Settings], Backoff] | None = None,
    concurrency_limit: ConcurrencyLimit | None = None,
) -> Callable[[Handler[P]], Handler[P]]:
    """Register the decorated coroutine as the handler of kind `name`.

    Handlers run at least once and may run again after a crash or a lease
    that ran out, so each must be idempotent: its effect keyed by something
    stable (a conditional update, a unique row, a message id the receiver
    dedupes on).

    With `concurrency_limit`, each process runs at most that many of the
    kind's jobs with one `concurrency_key` (given at enqueue) at a time; the
    others wait in the queue, unclaimed, for any process with room for them.
    A callable limit is given the process's job slots (at least 1 is kept).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if isinstance(concurrency_limit, int) and concurrency_limit < 1:
        raise ValueError("concurrency_limit must be at least 1")

    def register(handler: Handler[P]) -> Handler[P]:
        if name in _KINDS:
            raise ValueError(f"job kind {name!r} is registered already")
        _KINDS[name] = JobKind(
            name,
            payload,
            handler,
            max_attempts,
            backoff or exponential_backoff(),
            timeout,
            configured_backoff,
            concurrency_limit,
        )
        return handler

    return register


def get_kind(name: str) -> JobKind[Any]:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownJobKind(f"no job kind {name!r} is registered") from None


def registered_kinds() -> list[str]:
    return sorted(_KINDS)
