"""Order services without HTTP: the move table, failures, in-flight idempotency."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import extensions
from backend.errors import Conflict
from backend.models import ORDER_STATUSES, IdempotencyKey, Product
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
    # `expired` is final and made only by the expiry job, never by a move.
    final = {"delivered", "cancelled", "expired"}
    assert set(orders.TRANSITIONS) | final == set(ORDER_STATUSES)


async def _setup(app: Quart, session: AsyncSession) -> tuple[int, int]:
    user = await make_user(session, app)
    product = await make_product(session, stock=3)
    return user.id, product.id


async def test_place_order_without_http(app: Quart) -> None:
    async with extensions.database(app).session() as session:
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


async def test_a_failed_order_takes_no_stock_once_rolled_back(app: Quart) -> None:
    async with extensions.database(app).session() as session:
        user_id, product_id = await _setup(app, session)
        other = (await make_product(session, stock=5)).id
    async with extensions.database(app).session() as session:
        with pytest.raises(Conflict):
            await orders.place_order(
                session,
                user_id=user_id,
                # The first line is taken before the second fails.
                lines=[
                    OrderLine(product_id=other, quantity=5),
                    OrderLine(product_id=product_id, quantity=4),
                ],
                currency="USD",
            )
        await session.rollback()  # what the request does on any error
        assert (
            await session.scalar(select(Product.stock).where(Product.id == other)) == 5
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
