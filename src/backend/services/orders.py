"""Orders: placing them without overselling, reading them, moving their status.

Stock is taken with one conditional `UPDATE` per line, in ascending product id
so concurrent orders lock rows in the same order and cannot deadlock each
other (cancelling restores stock in the same order); the database, not a prior
read, decides whether a line can be served. A line that cannot be served fails
the request, and the request's transaction is rolled back whole. The event row
is written by the commit itself (see backend.services.order_events).

A pending order holds its stock until `expires_at` (see order_rules for the
limits on placing, order_expiry for giving the stock back); paying is
conditional on that time not having passed, expiring on it having passed, and
both on the order still being pending, so exactly one of them happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    bindparam,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.db.commit_hooks import mark_products_changed
from backend.db.database import Database
from backend.errors import Conflict, NotFound
from backend.models import IdempotencyKey, Order, OrderItem, Product, User
from backend.models.base import MAX_ROW_ID, utcnow
from backend.schemas.order import OrderLine, OrderOut
from backend.services import idempotency
from backend.services.order_events import record_order_event
from backend.services.order_rules import OrderRules, check_may_place
from backend.services.pagination import PageResult, paginate

# The only allowed moves; everything else is 409 invalid_transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"delivered"}),
}
_PRODUCTS = cast(Table, Product.__table__)
_ORDERS = cast(Table, Order.__table__)
_ITEMS = cast(Table, OrderItem.__table__)
# The statements of placing an order, built once: per order only the values
# change, so SQLAlchemy neither rebuilds nor re-keys them for its cache.
_TAKE_STOCK = (
    update(_PRODUCTS)
    .where(
        _PRODUCTS.c.id == bindparam("product_id"),
        _PRODUCTS.c.stock >= bindparam("quantity"),
        _PRODUCTS.c.is_active.is_(True),
    )
    .values(
        stock=_PRODUCTS.c.stock - bindparam("quantity"), updated_at=bindparam("now")
    )
    .returning(_PRODUCTS.c.sku, _PRODUCTS.c.name, _PRODUCTS.c.price_cents)
)
_INSERT_ORDER = insert(_ORDERS).returning(_ORDERS.c.id)
_INSERT_ITEMS = insert(_ITEMS)
DEFAULT_RULES = OrderRules()


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    body: dict[str, Any]
    replayed: bool = False


def order_view(order: Order | dict[str, Any]) -> dict[str, Any]:
    """The order exactly as the API shows it (also the event snapshot)."""
    return OrderOut.model_validate(order).model_dump(mode="json")


async def place_order(
    session: AsyncSession,
    *,
    user_id: int,
    lines: Sequence[OrderLine],
    currency: str,
    idempotency_key: str | None = None,
    rules: OrderRules = DEFAULT_RULES,
) -> PlacedOrder:
    """Create a pending order, or replay the one this idempotency key made."""
    claimed: IdempotencyKey | None = None
    if idempotency_key is not None:
        canonical = sorted((line.product_id, line.quantity) for line in lines)
        claim = await idempotency.claim(
            session,
            user_id=user_id,
            key=idempotency_key,
            fingerprint=idempotency.fingerprint({"items": canonical}),
        )
        if isinstance(claim, idempotency.Replay):
            return PlacedOrder(claim.body, replayed=True)
        claimed = claim
    await check_may_place(session, user_id=user_id, rules=rules)
    order = await _insert_order(session, user_id, lines, currency, rules)
    await mark_products_changed(
        session, (line.product_id for line in lines), by_order=True
    )
    body = order_view(order)
    if claimed is not None:
        await idempotency.remember(
            session, claimed, order_id=body["id"], status=201, body=body
        )
    await record_order_event(
        session,
        order_id=body["id"],
        user_id=user_id,
        status=body["status"],
        previous_status=None,
        snapshot=body,
    )
    return PlacedOrder(body)


async def _take_stock(session: AsyncSession, line: OrderLine) -> dict[str, Any]:
    """Take the line's units if the product has them; the order line it makes."""
    params = {"product_id": line.product_id, "quantity": line.quantity, "now": utcnow()}
    row = (await session.execute(_TAKE_STOCK, params)).one_or_none()
    if row is None:
        raise await _unavailable(session, line.product_id)
    return {
        "product_id": line.product_id,
        "sku": row.sku,
        "name": row.name,
        "quantity": line.quantity,
        "unit_price_cents": row.price_cents,
        "line_total_cents": row.price_cents * line.quantity,
    }


async def _unavailable(session: AsyncSession, product_id: int) -> Exception:
    """Why a line could not be served; read only to word the error."""
    active = await session.scalar(
        select(Product.is_active).where(Product.id == product_id)
    )
    if not active:
        return NotFound(
            "No such product.", code="product_not_found", product_id=product_id
        )
    return Conflict(
        "Not enough stock for this product.",
        code="insufficient_stock",
        product_id=product_id,
    )


async def _insert_order(
    session: AsyncSession,
    user_id: int,
    lines: Sequence[OrderLine],
    currency: str,
    rules: OrderRules,
) -> dict[str, Any]:
    """Write the order and its lines; the order as `OrderOut` fields.

    Plain Core statements, not ORM objects: this is the hottest write, and the
    unit of work would only repeat what the statements say.
    """
    taken = {}
    for line in sorted(lines, key=lambda line: line.product_id):
        taken[line.product_id] = await _take_stock(session, line)
    items = [taken[line.product_id] for line in lines]  # as the client listed them
    now = utcnow()
    order = {
        "user_id": user_id,
        "status": "pending",
        "total_cents": sum(item["line_total_cents"] for item in items),
        "currency": currency,
        "expires_at": rules.expires_at(now),
        "created_at": now,
        "updated_at": now,
    }
    order_id = await session.scalar(_INSERT_ORDER, order)
    await session.execute(
        _INSERT_ITEMS, [{"order_id": order_id, **item} for item in items]
    )
    return {"id": order_id, "items": items, **order}


def _visible(viewer: User) -> ColumnElement[bool]:
    return true() if viewer.is_admin else Order.user_id == viewer.id


async def get_order(session: AsyncSession, order_id: int, *, viewer: User) -> Order:
    """The order if `viewer` owns it or is an admin; otherwise 404, never 403."""
    if order_id > MAX_ROW_ID:
        raise NotFound("No such order.")
    order = await session.scalar(
        select(Order)
        .options(selectinload(Order.items))
        .where(Order.id == order_id, _visible(viewer))
    )
    if order is None:
        raise NotFound("No such order.")
    return order


# Reading one order on behalf of its owner (or an admin), built once: the
# order's columns joined to each of its lines (an order has at least one), so
# one statement reads both, in one snapshot.
_ORDER_COLUMNS = (
    _ORDERS.c.id,
    _ORDERS.c.user_id,
    _ORDERS.c.status,
    _ORDERS.c.total_cents,
    _ORDERS.c.currency,
    _ORDERS.c.expires_at,
    _ORDERS.c.created_at,
    _ORDERS.c.updated_at,
)
_ITEM_COLUMNS = (
    _ITEMS.c.product_id,
    _ITEMS.c.sku,
    _ITEMS.c.name,
    _ITEMS.c.quantity,
    _ITEMS.c.unit_price_cents,
    _ITEMS.c.line_total_cents,
)
_ANY_ORDER = (
    select(*_ORDER_COLUMNS, *_ITEM_COLUMNS)
    .join_from(_ORDERS, _ITEMS, _ITEMS.c.order_id == _ORDERS.c.id)
    .where(_ORDERS.c.id == bindparam("order_id"))
    .order_by(_ITEMS.c.id)
)
_OWN_ORDER = _ANY_ORDER.where(_ORDERS.c.user_id == bindparam("user_id"))
_ORDER_KEYS = tuple(column.name for column in _ORDER_COLUMNS)
_ITEM_KEYS = tuple(column.name for column in _ITEM_COLUMNS)


async def read_order(
    database: Database, order_id: int, *, user_id: int, is_admin: bool
) -> dict[str, Any]:
    """`get_order` as the API shows it, for a viewer known by id and role only.

    One prebuilt read (`Database.read`) rather than ORM objects in a session:
    the order (only the viewer's own unless admin; otherwise 404, never 403)
    with its lines, one row per line.
    """
    if order_id > MAX_ROW_ID:
        raise NotFound("No such order.")
    statement = _ANY_ORDER if is_admin else _OWN_ORDER
    rows = await database.read(statement, {"order_id": order_id, "user_id": user_id})
    if not rows:
        raise NotFound("No such order.")
    order = {key: rows[0][key] for key in _ORDER_KEYS}
    order["items"] = [{key: row[key] for key in _ITEM_KEYS} for row in rows]
    return order


async def list_orders(
    session: AsyncSession,
    *,
    viewer: User,
    user_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> PageResult[Order]:
    """Newest first: the viewer's own orders, or anyone's for an admin."""
    statement = select(Order).options(selectinload(Order.items)).where(_visible(viewer))
    if viewer.is_admin and user_id is not None:
        statement = statement.where(Order.user_id == user_id)
    if status is not None:
        statement = statement.where(Order.status == status)
    statement = statement.order_by(Order.id.desc())
    return await paginate(session, statement, page=page, per_page=per_page)


async def change_status(
    session: AsyncSession, order_id: int, *, viewer: User, status: str
) -> dict[str, Any]:
    """Move the order along an allowed edge; cancelling puts the stock back."""
    order = await get_order(session, order_id, viewer=viewer)
    previous = order.status
    if status not in TRANSITIONS.get(previous, frozenset()):
        raise _invalid(previous, status)
    await _move(session, order, previous, status)
    await session.refresh(order, ["status", "expires_at", "updated_at"])
    body = order_view(order)
    await record_order_event(
        session,
        order_id=order.id,
        user_id=order.user_id,
        status=status,
        previous_status=previous,
        snapshot=body,
    )
    return body


def _invalid(previous: str, status: str) -> Conflict:
    return Conflict(
        f"An order cannot move from {previous} to {status}.",
        code="invalid_transition",
    )


async def _move(
    session: AsyncSession, order: Order, previous: str, status: str
) -> None:
    # Conditional on the status we checked: of two racing moves only one
    # matches the row, the other sees 0 rows and loses with a 409. Paying is
    # also conditional on the order not being due to expire, so a payment and
    # the expiry job racing for one order cannot both win.
    now = utcnow()
    condition = [Order.id == order.id, Order.status == previous]
    if status == "paid":
        condition.append(or_(Order.expires_at.is_(None), Order.expires_at > now))
    moved = await session.execute(
        update(Order)
        .where(*condition)
        .values(status=status, expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], moved).rowcount != 1:
        raise _invalid(previous, status)
    if status == "cancelled":
        await restore_stock(session, order.items)


async def restore_stock(session: AsyncSession, items: Iterable[OrderItem]) -> None:
    """Give an order's units back, in ascending product id (the placing order)."""
    items = sorted(items, key=lambda item: item.product_id)
    for item in items:
        await session.execute(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + item.quantity, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    await mark_products_changed(
        session, (item.product_id for item in items), by_order=True
    )
