"""Order services without HTTP: the move table, retries, in-flight idempotency."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import get_database
from backend.errors import Conflict
from backend.models import ORDER_STATUSES, IdempotencyKey
from backend.schemas.order import OrderLine
from backend.services import idempotency, orders
from tests.support.factories import make_product, make_user
from tests.support.live_data import LiveData

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


def test_move_table_is_the_contract() -> None:
    moves = {(a, b) for a, targets in orders.TRANSITIONS.items() for b in targets}
    assert moves == {
        ("pending", "paid"),
        ("paid", "shipped"),
        ("shipped", "delivered"),
        ("pending", "cancelled"),
        ("paid", "cancelled"),
    }
    assert set(orders.TRANSITIONS) | {"delivered", "cancelled"} == set(ORDER_STATUSES)


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _db_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE product ...", {}, _Orig(sqlstate))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_deadlock_or_serialization_failure_is_retried_once(
    app: Quart, sqlstate: str
) -> None:
    attempts = []

    async def work() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise _db_error(sqlstate)
        return "done"

    async with get_database(app).session() as session:
        assert await orders._in_savepoint(session, work) == "done"
    assert len(attempts) == 2


async def test_a_second_failure_or_another_error_is_not_retried(app: Quart) -> None:
    attempts = []

    async def deadlocks() -> None:
        attempts.append(1)
        raise _db_error("40P01")

    async def violates() -> None:
        attempts.append(1)
        raise IntegrityError("INSERT", {}, _Orig("23505"))

    async with get_database(app).session() as session:
        with pytest.raises(DBAPIError):
            await orders._in_savepoint(session, deadlocks)
        assert len(attempts) == 2
        with pytest.raises(IntegrityError):
            await orders._in_savepoint(session, violates)
        assert len(attempts) == 3


async def _setup(app: Quart, session: AsyncSession) -> tuple[int, int]:
    user = await make_user(session, app)
    product = await make_product(session, stock=3)
    return user.id, product.id


async def test_place_order_without_http(app: Quart) -> None:
    async with get_database(app).session() as session:
        user_id, product_id = await _setup(app, session)
        placed = await orders.place_order(
            session,
            user_id=user_id,
            lines=[OrderLine(product_id=product_id, quantity=2)],
            currency="EUR",
        )
    assert placed.replayed is False
    assert placed.body["currency"] == "EUR"
    assert placed.body["items"][0]["quantity"] == 2


async def test_failed_order_leaves_the_session_usable(app: Quart) -> None:
    async with get_database(app).session() as session:
        user_id, product_id = await _setup(app, session)
        with pytest.raises(Conflict):
            await orders.place_order(
                session,
                user_id=user_id,
                lines=[OrderLine(product_id=product_id, quantity=4)],
                currency="USD",
            )
        placed = await orders.place_order(
            session,
            user_id=user_id,
            lines=[OrderLine(product_id=product_id, quantity=3)],
            currency="USD",
        )
    assert placed.body["total_cents"] == 3000


async def test_repeat_while_the_first_is_in_flight_is_409_on_postgresql(
    fresh_database_url: FreshDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "CLAIM_WAIT", "200ms")
    url = await fresh_database_url("postgresql")
    async with LiveData(url) as data:
        user = await data.user()

        async def claim(session: AsyncSession) -> IdempotencyKey | idempotency.Replay:
            return await idempotency.claim(
                session, user_id=user.id, key="in-flight", fingerprint="f"
            )

        async with data.session() as first, first.begin():
            row = await claim(first)
            assert isinstance(row, IdempotencyKey)
            async with data.session() as second, second.begin():
                with pytest.raises(Conflict) as raised:
                    await claim(second)
        assert raised.value.code == "idempotency_in_progress"
