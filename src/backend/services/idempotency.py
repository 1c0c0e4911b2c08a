"""Idempotency keys for `POST /orders`: claim, replay, remember, purge.

A key is claimed by inserting its row at the start of the order's transaction
and filled with the response at the end of it, so the key and its order commit
or vanish together, and a failed attempt (404, 409) leaves nothing behind.

The unique `(user_id, key)` index is the lock. On PostgreSQL a repeat that
arrives while the first attempt is in flight waits on that index entry: when the
first commits, the repeat replays its response; when it rolls back, the repeat
runs itself. The wait is bounded (`CLAIM_WAIT`); past it the answer is 409
`idempotency_in_progress`. SQLite serialises writers, so a repeat only ever
sees a finished attempt.

Expired rows are treated as absent and purged opportunistically: a claim runs
`purge_expired` with probability `PURGE_CHANCE` (no scheduler needed; a busy
shop purges often, an idle one has little to purge).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import Conflict, ValidationFailed
from backend.models import IdempotencyKey
from backend.models.base import utcnow

RETENTION = timedelta(hours=24)
CLAIM_WAIT = "5s"
PURGE_CHANCE = 0.01
PURGE_BATCH = 500
_LOCK_NOT_AVAILABLE = "55P03"
_HEADER_LOC = ["header", "Idempotency-Key"]


@dataclass(frozen=True, slots=True)
class Replay:
    """A remembered response, to be sent again as it was."""

    status: int
    body: dict[str, Any]


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body (keys sorted, no whitespace)."""
    return hashlib.sha256(
        orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def claim(
    session: AsyncSession, *, user_id: int, key: str, fingerprint: str
) -> IdempotencyKey | Replay:
    """Own `key` for this transaction, or get the response it already has."""
    if random.random() < PURGE_CHANCE:
        await purge_expired(session)
    now = utcnow()
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at <= now,
        )
    )
    row = IdempotencyKey(
        user_id=user_id, key=key, fingerprint=fingerprint, expires_at=now + RETENTION
    )
    try:
        await _insert_waiting(session, row)
    except IntegrityError:
        return await _replay(session, user_id=user_id, key=key, fingerprint=fingerprint)
    return row


async def _insert_waiting(session: AsyncSession, row: IdempotencyKey) -> None:
    postgres = _is_postgres(session)
    try:
        async with session.begin_nested():
            if postgres:
                await session.execute(text(f"SET LOCAL lock_timeout = '{CLAIM_WAIT}'"))
            session.add(row)
    except IntegrityError:
        raise
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise _in_progress() from error
        raise
    if postgres:
        await session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))


def _in_progress() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still in progress; retry shortly.",
        code="idempotency_in_progress",
    )


async def _replay(
    session: AsyncSession, *, user_id: int, key: str, fingerprint: str
) -> Replay:
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    )
    if row is None or row.response_status is None or row.response_body is None:
        raise _in_progress()
    if row.fingerprint != fingerprint:
        raise ValidationFailed(
            [
                {
                    "loc": _HEADER_LOC,
                    "msg": "This key was used with a different request body.",
                    "type": "idempotency_key_reused",
                }
            ],
            "This Idempotency-Key was already used with a different request body.",
            code="idempotency_key_reused",
        )
    return Replay(row.response_status, row.response_body)


async def remember(
    session: AsyncSession,
    row: IdempotencyKey,
    *,
    order_id: int,
    status: int,
    body: dict[str, Any],
) -> None:
    """Store the response on the claimed key, in the order's own transaction."""
    row.order_id = order_id
    row.response_status = status
    row.response_body = body
    await session.flush()


async def purge_expired(session: AsyncSession, *, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` keys past their 24 hours; the number deleted.

    `SKIP LOCKED` (PostgreSQL) lets concurrent purges share the work instead
    of queueing behind each other.
    """
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= utcnow())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(expired))
    if ids:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
    return len(ids)
