"""The catalog: searching, reading and editing products."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backend.db.commit_hooks import mark_products_changed
from backend.errors import Conflict, NotFound
from backend.models import Product
from backend.models.base import MAX_ROW_ID
from backend.services.pagination import PageResult, paginate
from backend.services.search import LIKE_ESCAPE, contains_pattern

# Ids are 32-bit integer columns: a larger id in a path names nothing (and would
# overflow the parameter on PostgreSQL), so it is a plain 404.

_SORTS: dict[str, ColumnElement[Any]] = {
    "id": Product.id.asc(),
    "name": Product.name.asc(),
    "-name": Product.name.desc(),
    "price_cents": Product.price_cents.asc(),
    "-price_cents": Product.price_cents.desc(),
    "created_at": Product.created_at.asc(),
    "-created_at": Product.created_at.desc(),
}


def _filtered(
    q: str | None,
    min_price_cents: int | None,
    max_price_cents: int | None,
    in_stock: bool | None,
) -> Select[Product]:
    statement = select(Product)
    if q:
        pattern = contains_pattern(q)
        statement = statement.where(
            or_(
                *(
                    column.ilike(pattern, escape=LIKE_ESCAPE)
                    for column in (Product.name, Product.sku, Product.description)
                )
            )
        )
    if min_price_cents is not None:
        statement = statement.where(Product.price_cents >= min_price_cents)
    if max_price_cents is not None:
        statement = statement.where(Product.price_cents <= max_price_cents)
    if in_stock is not None:
        statement = statement.where(
            Product.stock > 0 if in_stock else Product.stock == 0
        )
    return statement


async def list_products(
    session: AsyncSession,
    *,
    q: str | None = None,
    min_price_cents: int | None = None,
    max_price_cents: int | None = None,
    in_stock: bool | None = None,
    sort: str = "id",
    include_inactive: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> PageResult[Product]:
    """One page of the catalog; ties in any sort are broken by id ascending."""
    statement = _filtered(q, min_price_cents, max_price_cents, in_stock)
    if not include_inactive:
        statement = statement.where(Product.is_active.is_(True))
    statement = statement.order_by(_SORTS[sort], Product.id.asc())
    return await paginate(session, statement, page=page, per_page=per_page)


async def get_product(
    session: AsyncSession, product_id: int, *, include_inactive: bool = False
) -> Product:
    """The product; 404 when unknown, or inactive and `include_inactive` is off."""
    product = (
        await session.get(Product, product_id) if product_id <= MAX_ROW_ID else None
    )
    if product is None or not (product.is_active or include_inactive):
        raise NotFound("No such product.")
    return product


# The columns of a product's API view by id, built once: a Core select skips
# the ORM's identity map and instance loading, a prebuilt one its construction.
_PRODUCT_BY_ID = select(
    Product.id,
    Product.sku,
    Product.name,
    Product.description,
    Product.price_cents,
    Product.stock,
    Product.is_active,
    Product.created_at,
    Product.updated_at,
).where(Product.id == bindparam("product_id"))


async def find_product_row(
    connection: AsyncConnection, product_id: int
) -> RowMapping | None:
    """The product's columns, active or not; None when there is no such product.

    The cache-miss read of `GET /products/{id}`, the hottest uncached read: it
    takes a connection rather than a session (see `Database.read_connection`).
    """
    if product_id > MAX_ROW_ID:
        return None
    result = await connection.execute(_PRODUCT_BY_ID, {"product_id": product_id})
    return result.mappings().one_or_none()


async def _write_unique_sku(
    session: AsyncSession, product: Product, changes: dict[str, Any]
) -> None:
    # The unique index decides, never a prior look-up: two racing writers
    # cannot both pass a check. The savepoint keeps the session usable.
    try:
        async with session.begin_nested():
            for name, value in changes.items():
                setattr(product, name, value)
            session.add(product)
    except IntegrityError as error:
        raise Conflict("That SKU is already taken.", code="sku_taken") from error


async def create_product(session: AsyncSession, **fields: Any) -> Product:
    """Add a product; a SKU taken case-insensitively is 409 `sku_taken`."""
    product = Product()
    await _write_unique_sku(session, product, fields)
    return product


async def update_product(
    session: AsyncSession, product_id: int, *, changes: dict[str, Any]
) -> Product:
    """Apply `changes` to any product, active or not (admins edit both)."""
    product = await get_product(session, product_id, include_inactive=True)
    await _write_unique_sku(session, product, changes)
    await mark_products_changed(session, [product_id])
    return product


async def deactivate_product(session: AsyncSession, product_id: int) -> None:
    """Soft delete: the product leaves the catalog; past orders keep their lines."""
    product = await get_product(session, product_id, include_inactive=True)
    product.is_active = False
    await session.flush()
    await mark_products_changed(session, [product_id])
