"""What placing an order must respect besides stock: who may, how often, how many.

A script with one account must not be able to hoard the catalogue with orders
it never pays: a user holds at most `ORDER_MAX_PENDING` pending orders and
places at most `RATE_LIMIT_ORDERS`; every pending order expires after
`ORDER_PENDING_TTL` (see backend.services.order_expiry). The checks run in the
order's own transaction, after an idempotent replay has been answered (a
replay places nothing, so it costs nothing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.errors import Conflict, PermissionDenied
from backend.models import Order, User

_ORDERS = cast(Table, Order.__table__)
_USERS = cast(Table, User.__table__)
# The user's row is locked (PostgreSQL) so two placements by one user
# cannot both see room for one more; SQLite's writers are serialised anyway.
# Counting stops at the cap, so a user's long history costs nothing.
_PENDING_HELD = (
    select(
        select(func.count())
        .select_from(
            select(literal(1))
            .where(
                _ORDERS.c.user_id == bindparam("user_id"),
                _ORDERS.c.status == "pending",
            )
            .limit(bindparam("cap"))
            .subquery()
        )
        .scalar_subquery()
    )
    .where(_USERS.c.id == bindparam("user_id"))
    # FOR NO KEY UPDATE: placements of one user take turns, yet the KEY SHARE
    # locks their own foreign keys take on the user row (the idempotency key,
    # the order) do not conflict with it; FOR UPDATE would, and two placements
    # that each inserted a row first would deadlock.
    .with_for_update(of=_USERS, key_share=True)
)


@dataclass(frozen=True, slots=True)
class OrderRules:
    """The limits one placement is held to."""

    pending_ttl: int = 1800
    max_pending: int = 10
    email_verified: bool = True
    # Spends one unit of the user's placement budget (raising RateLimited
    # once it is used up); called only when an order is really placed.
    spend_budget: Callable[[], Awaitable[None]] | None = None

    def expires_at(self, created_at: datetime) -> datetime:
        return created_at + timedelta(seconds=self.pending_ttl)


def rules_for(
    settings: Settings,
    user: User,
    *,
    spend_budget: Callable[[], Awaitable[None]] | None = None,
) -> OrderRules:
    """The rules `user` places orders under, from configuration."""
    return OrderRules(
        pending_ttl=settings.order_pending_ttl,
        max_pending=settings.order_max_pending,
        email_verified=not settings.require_verified_email or user.email_verified,
        spend_budget=spend_budget,
    )


async def check_may_place(
    session: AsyncSession, *, user_id: int, rules: OrderRules
) -> None:
    """Refuse the placement (403, 429, 409) unless the rules allow one more order."""
    if not rules.email_verified:
        raise PermissionDenied(
            "Verify your email address before placing orders.",
            code="email_not_verified",
        )
    if rules.spend_budget is not None:
        await rules.spend_budget()
    held = await session.scalar(
        _PENDING_HELD, {"user_id": user_id, "cap": rules.max_pending}
    )
    if (held or 0) >= rules.max_pending:
        raise Conflict(
            f"You already hold {rules.max_pending} unpaid orders; pay or cancel "
            "one first.",
            code="too_many_pending_orders",
        )
