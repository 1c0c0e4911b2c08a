"""Orders and their events written straight into a database, for bus tests."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.database import Database
from backend.models import Order, OrderEvent, User
from backend.services.order_events import record_order_event


async def owner(database: Database) -> int:
    async with database.session() as session:
        user = User(username="owner", email="owner@example.com", password_hash="x")
        session.add(user)
        await session.flush()
        return user.id


def order_body(order: Order) -> dict[str, object]:
    return {
        "id": order.id,
        "user_id": order.user_id,
        "status": "pending",
        "items": [],
        "total_cents": 0,
        "currency": "USD",
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


async def record_order(session: AsyncSession, user_id: int) -> OrderEvent:
    """A pending order and its `order.created` event, in `session`'s transaction."""
    order = Order(user_id=user_id, total_cents=0, currency="USD")
    session.add(order)
    await session.flush()
    return await record_order_event(
        session,
        order_id=order.id,
        user_id=user_id,
        status="pending",
        previous_status=None,
        snapshot=order_body(order),
    )
