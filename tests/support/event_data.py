"""Orders and their events written straight into a database, for bus tests."""

from __future__ import annotations

from backend.db import Database
from backend.models import Order, User


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
