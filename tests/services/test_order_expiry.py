"""Expiring unpaid orders without HTTP: stock back once, one event, a final status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from quart import Quart
from sqlalchemy import select

from backend import extensions
from backend.errors import Conflict
from backend.jobs.registry import get_kind
from backend.models import Order, OrderEvent, Product, User
from backend.models.base import utcnow
from backend.schemas.order import OrderLine
from backend.services import order_expiry, orders
from backend.services.order_rules import OrderRules
from tests.support.factories import make_product, make_user

TTL = 60


async def _placed(app: Quart, *, stock: int = 5, quantity: int = 2) -> tuple[int, int]:
    """A pending order of `quantity` units, due in TTL seconds; (order, product)."""
    async with extensions.database(app).session() as session:
        user = await make_user(session, app)
        product = await make_product(session, stock=stock)
        placed = await orders.place_order(
            session,
            user_id=user.id,
            lines=[OrderLine(product_id=product.id, quantity=quantity)],
            currency="USD",
            rules=OrderRules(pending_ttl=TTL),
        )
    return placed.body["id"], product.id


async def _state(app: Quart, order_id: int, product_id: int) -> tuple[Order, int]:
    async with extensions.database(app).session() as session:
        order = await session.get_one(Order, order_id, populate_existing=True)
        stock = await session.scalar(
            select(Product.stock).where(Product.id == product_id)
        )
    assert stock is not None
    return order, stock


async def _events(app: Quart, order_id: int) -> list[tuple[str | None, str]]:
    async with extensions.database(app).session() as session:
        rows = await session.execute(
            select(OrderEvent.previous_status, OrderEvent.status)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
    return [(previous, status) for previous, status in rows]


async def _admin(app: Quart) -> User:
    async with extensions.database(app).session() as session:
        return await make_user(session, app, is_admin=True)


def test_the_expiry_job_is_registered_and_runs_often_enough() -> None:
    assert get_kind("expire_orders").max_attempts >= 1
    # The contract: at most 30 s late.
    assert order_expiry.EXPIRY_PERIOD <= 15


async def test_a_pending_order_carries_its_expiry_time(app: Quart) -> None:
    before = utcnow()
    order_id, product_id = await _placed(app)
    order, stock = await _state(app, order_id, product_id)
    assert order.status == "pending"
    assert order.expires_at is not None
    assert before + timedelta(seconds=TTL) <= order.expires_at
    assert order.expires_at <= utcnow() + timedelta(seconds=TTL)
    assert stock == 3


async def test_a_due_order_expires_gives_its_stock_back_and_records_one_event(
    app: Quart,
) -> None:
    order_id, product_id = await _placed(app)
    database = extensions.database(app)
    assert await order_expiry.expire_due_orders(database) == 0  # not due yet
    later = utcnow() + timedelta(seconds=TTL + 1)
    assert await order_expiry.expire_due_orders(database, now=later) == 1
    order, stock = await _state(app, order_id, product_id)
    assert (order.status, order.expires_at, stock) == ("expired", None, 5)
    assert await _events(app, order_id) == [(None, "pending"), ("pending", "expired")]
    # A second run (at least once) changes nothing.
    assert await order_expiry.expire_due_orders(database, now=later) == 0
    assert (await _state(app, order_id, product_id))[1] == 5
    assert len(await _events(app, order_id)) == 2


async def test_the_expired_event_carries_the_expired_order(app: Quart) -> None:
    order_id, _ = await _placed(app)
    later = utcnow() + timedelta(seconds=TTL + 1)
    await order_expiry.expire_due_orders(extensions.database(app), now=later)
    async with extensions.database(app).session() as session:
        event = await session.scalar(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.status == "expired"
            )
        )
    assert event is not None
    assert event.type == "order.status_changed"
    assert event.order_snapshot["status"] == "expired"
    assert event.order_snapshot["expires_at"] is None


@pytest.mark.parametrize("move", ["paid", "cancelled", "shipped", "pending"])
async def test_expired_is_final(app: Quart, move: str) -> None:
    order_id, _ = await _placed(app)
    later = utcnow() + timedelta(seconds=TTL + 1)
    await order_expiry.expire_due_orders(extensions.database(app), now=later)
    admin = await _admin(app)
    async with extensions.database(app).session() as session:
        with pytest.raises(Conflict) as refused:
            await orders.change_status(session, order_id, viewer=admin, status=move)
    assert refused.value.code == "invalid_transition"


async def test_nobody_can_move_an_order_to_expired(app: Quart) -> None:
    order_id, _ = await _placed(app)
    admin = await _admin(app)
    async with extensions.database(app).session() as session:
        with pytest.raises(Conflict) as refused:
            await orders.change_status(
                session, order_id, viewer=admin, status="expired"
            )
    assert refused.value.code == "invalid_transition"


async def test_an_order_paid_before_its_expiry_never_expires(app: Quart) -> None:
    order_id, product_id = await _placed(app)
    admin = await _admin(app)
    async with extensions.database(app).session() as session:
        paid = await orders.change_status(
            session, order_id, viewer=admin, status="paid"
        )
    assert paid["expires_at"] is None
    later = utcnow() + timedelta(seconds=TTL + 1)
    assert (
        await order_expiry.expire_due_orders(extensions.database(app), now=later) == 0
    )
    order, stock = await _state(app, order_id, product_id)
    assert (order.status, stock) == ("paid", 3)


async def test_a_due_order_can_no_longer_be_paid(app: Quart) -> None:
    """Past `expires_at` the expiry job owns the order, even before it has run."""
    async with extensions.database(app).session() as session:
        user = await make_user(session, app)
        product = await make_product(session, stock=5)
        placed = await orders.place_order(
            session,
            user_id=user.id,
            lines=[OrderLine(product_id=product.id, quantity=1)],
            currency="USD",
            rules=OrderRules(pending_ttl=TTL),
        )
        order = await session.get_one(Order, placed.body["id"])
        order.expires_at = utcnow() - timedelta(seconds=1)
    admin = await _admin(app)
    async with extensions.database(app).session() as session:
        with pytest.raises(Conflict) as refused:
            await orders.change_status(
                session, placed.body["id"], viewer=admin, status="paid"
            )
    assert refused.value.code == "invalid_transition"
    assert await order_expiry.expire_due_orders(extensions.database(app)) == 1


async def test_an_order_cancelled_before_the_job_runs_is_restocked_once(
    app: Quart,
) -> None:
    order_id, product_id = await _placed(app)
    admin = await _admin(app)
    async with extensions.database(app).session() as session:
        await orders.change_status(session, order_id, viewer=admin, status="cancelled")
    later = utcnow() + timedelta(seconds=TTL + 1)
    assert (
        await order_expiry.expire_due_orders(extensions.database(app), now=later) == 0
    )
    order, stock = await _state(app, order_id, product_id)
    assert (order.status, stock) == ("cancelled", 5)
