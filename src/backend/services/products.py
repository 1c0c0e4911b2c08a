"""The catalog: searching, reading and editing products."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.commit_hooks import mark_products_changed
from backend.db.database import Database
from backend.db.driver_reads import PLAN_PER_CALL
from backend.errors import Conflict, NotFound
from backend.models import (
    PRICE_BUCKET_CENTS,
    Product,
    ProductCount,
    ProductPriceBucket,
)
from backend.models.base import MAX_ROW_ID
from backend.schemas.product import MAX_PRICE_CENTS
from backend.services.pagination import (
    PagePlan,
    PageResult,
    SortKey,
    page_plan,
    paginate_rows,
)
from backend.services.search import LIKE_ESCAPE, contains_pattern

# Ids are 32-bit integer columns: a larger id in a path names nothing (and would
# overflow the parameter on PostgreSQL), so it is a plain 404.

# What the list shows of each product: table columns, so the statement is plain
# Core (no ORM entities, identity map or ORM compile step; the route encodes
# these rows as they are).
_COLUMN = Product.__table__.c
LIST_COLUMNS = tuple(
    _COLUMN[name]
    for name in (
        "id",
        "sku",
        "name",
        "description",
        "price_cents",
        "stock",
        "is_active",
        "created_at",
        "updated_at",
    )
)
# Each sort, then id ascending to break ties (id alone needs no tie-break).
_ID: SortKey = (_COLUMN.id, False)
_SORTS: dict[str, tuple[SortKey, ...]] = {
    "id": (_ID,),
    "name": ((_COLUMN.name, False), _ID),
    "-name": ((_COLUMN.name, True), _ID),
    "price_cents": ((_COLUMN.price_cents, False), _ID),
    "-price_cents": ((_COLUMN.price_cents, True), _ID),
    "created_at": ((_COLUMN.created_at, False), _ID),
    "-created_at": ((_COLUMN.created_at, True), _ID),
}


@dataclass(frozen=True)
class _ListShape:
    """Which filters a list query uses: each shape's statement is built once."""

    q: bool
    min_price: bool
    max_price: bool
    in_stock: bool | None
    include_inactive: bool
    sort: str


@cache
def _list_plan(shape: _ListShape) -> PagePlan:
    # Bind parameters, not values: one statement object per shape, so
    # SQLAlchemy neither rebuilds it nor recomputes its cache key per request.
    conditions: list[ColumnElement[bool]] = []
    if shape.q:
        pattern = bindparam("pattern", type_=String)
        columns = (_COLUMN.name, _COLUMN.sku, _COLUMN.description)
        conditions.append(
            or_(*(column.ilike(pattern, escape=LIKE_ESCAPE) for column in columns))
        )
    if shape.min_price:
        conditions.append(_COLUMN.price_cents >= bindparam("min_price_cents"))
    if shape.max_price:
        conditions.append(_COLUMN.price_cents <= bindparam("max_price_cents"))
    if shape.in_stock is not None:
        conditions.append(_COLUMN.stock > 0 if shape.in_stock else _COLUMN.stock == 0)
    if not shape.include_inactive:
        conditions.append(_COLUMN.is_active.is_(True))
    filtered: Select[Any] = select(*LIST_COLUMNS).where(*conditions)
    plan = page_plan(filtered, _SORTS[shape.sort], total=_maintained_total(shape))
    if shape.q or shape.min_price or shape.max_price:
        # How many products match decides whether to walk the sort's index or
        # gather the matches and sort them; one plan for every value is
        # several times slower for some (see `backend.db.driver_reads`).
        plan = replace(
            plan, statement=plan.statement.execution_options(**{PLAN_PER_CALL: True})
        )
    if _by_price_only(shape):
        # The buckets' total replaces the count but stays a statement of its
        # own, not `total=`: joined to the window, which is planned per call,
        # it would be planned on every call too (see `page_plan`).
        return replace(plan, count=_price_range_total(shape.include_inactive))
    return plan


def _maintained_total(shape: _ListShape) -> Select[Any] | None:
    """The exact total from the trigger-kept counter, when no filter narrows it.

    Counting every active product on every page was most of the database's
    work for a catalog page; the counter row is read instead.
    """
    if shape.q or shape.min_price or shape.max_price or shape.in_stock is not None:
        return None
    counts = ProductCount.__table__.c
    column = counts.total if shape.include_inactive else counts.active
    return select(column.label("total")).where(counts.id == 1)


def _by_price_only(shape: _ListShape) -> bool:
    """Whether the price range is the only filter (the buckets can count it)."""
    narrowed = shape.q or shape.in_stock is not None
    return not narrowed and (shape.min_price or shape.max_price)


_BUCKETS = ProductPriceBucket.__table__.c


def _price_range_total(include_inactive: bool) -> Select[Any]:
    """The exact count of a price range, mostly read from the price buckets.

    The buckets wholly inside the range are summed (`product_price_bucket`,
    kept by triggers); only the products of the partial buckets at its two
    ends are counted, each end a short range of the price index. Counting
    every product of a range half the catalog wide was most of a filtered
    page's database work. `price_range_bounds` gives the parameters.
    """
    column = _BUCKETS.total if include_inactive else _BUCKETS.active
    whole = (
        select(func.coalesce(func.sum(column), literal_column("0")))
        .where(
            _BUCKETS.bucket >= bindparam("whole_from"),
            _BUCKETS.bucket < bindparam("whole_to"),
        )
        .scalar_subquery()
    )

    def counted(low: str, high: str) -> Any:
        conditions = [
            _COLUMN.price_cents >= bindparam(low),
            _COLUMN.price_cents <= bindparam(high),
        ]
        if not include_inactive:
            conditions.append(_COLUMN.is_active.is_(True))
        return select(func.count()).select_from(Product.__table__).where(*conditions)

    ends = (
        counted("low_from", "low_to").scalar_subquery()
        + counted("high_from", "high_to").scalar_subquery()
    )
    return select((whole + ends).label("total"))


def price_range_bounds(low: int | None, high: int | None) -> dict[str, int]:
    """`_price_range_total`'s parameters for the prices `low` to `high`."""
    first = 0 if low is None else low
    last = MAX_PRICE_CENTS if high is None else high
    whole_from = -(-first // PRICE_BUCKET_CENTS)  # the first bucket inside
    whole_to = (last + 1) // PRICE_BUCKET_CENTS  # past the last bucket inside
    if whole_from >= whole_to:  # no bucket lies wholly inside: count them all
        ends = {"low_from": first, "low_to": last, "high_from": 1, "high_to": 0}
        return {"whole_from": 0, "whole_to": 0, **ends}
    return {
        "whole_from": whole_from,
        "whole_to": whole_to,
        "low_from": first,
        "low_to": whole_from * PRICE_BUCKET_CENTS - 1,
        "high_from": whole_to * PRICE_BUCKET_CENTS,
        "high_to": last,
    }


async def list_products(
    database: Database,
    *,
    q: str | None = None,
    min_price_cents: int | None = None,
    max_price_cents: int | None = None,
    in_stock: bool | None = None,
    sort: str = "id",
    include_inactive: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> PageResult[dict[str, Any]]:
    """One page of the catalog (rows of LIST_COLUMNS); ties broken by id ascending."""
    shape = _ListShape(
        q=bool(q),
        min_price=min_price_cents is not None,
        max_price=max_price_cents is not None,
        in_stock=in_stock,
        include_inactive=include_inactive,
        sort=sort,
    )
    params: dict[str, Any] = {
        "pattern": contains_pattern(q) if q else None,
        "min_price_cents": min_price_cents,
        "max_price_cents": max_price_cents,
    }
    if _by_price_only(shape):
        params |= price_range_bounds(min_price_cents, max_price_cents)
    return await paginate_rows(
        database, _list_plan(shape), params, page=page, per_page=per_page
    )


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
    database: Database, product_id: int
) -> dict[str, Any] | None:
    """The product's columns, active or not; None when there is no such product.

    The cache-miss read of `GET /products/{id}`, the hottest uncached read: no
    session (see `Database.read`).
    """
    if product_id > MAX_ROW_ID:
        return None
    rows = await database.read(_PRODUCT_BY_ID, {"product_id": product_id})
    return rows[0] if rows else None


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
