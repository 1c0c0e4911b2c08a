"""The one way to paginate: a page window over a select, plus its total.

`paginate` runs two statements (the total, then the window) over any select,
ORM entities included. `page_statement` and `paginate_rows` do the same for a
select of plain columns in one statement built once per query shape, counting
only when nothing cheaper knows the total: the hot catalog list uses them
(docs/performance.md, "read-list").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import KeyedColumnElement

from backend.db.database import Database
from backend.models.base import MAX_ROW_ID

T = TypeVar("T")
# One sort key of `page_statement`: a column of its select, and whether descending.
SortKey = tuple[KeyedColumnElement[Any], bool]


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
        }


async def paginate(
    session: AsyncSession, statement: Select[Any], *, page: int, per_page: int
) -> PageResult[Any]:
    """One page of `statement` (which must already be ordered) and the total count."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = await session.scalar(counted) or 0
    offset = (page - 1) * per_page
    if offset >= total:  # past the last page: no query, and no offset overflow
        return PageResult([], total, page, per_page)
    window = await session.scalars(statement.limit(per_page).offset(offset))
    return PageResult(list(window.all()), total, page, per_page)


def _ordered(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    return column.desc() if descending else column.asc()


def page_statement(
    filtered: Select[Any],
    order: Sequence[SortKey],
    *,
    total: Select[Any] | None = None,
) -> Select[Any]:
    """One page of `filtered` (bound by `:limit` and `:offset`) and its total.

    The statement's first column is the exact total: `total`, a one-row
    select of the count of `filtered` when something cheaper than counting
    knows it (a maintained counter), else the count itself. It is a one-row
    derived table outer-joined to the window, so a page past the end still
    answers one row (the total, every other column NULL), and both come from
    one snapshot in one round trip. (`count(*) OVER ()` would give no total
    past the end.)
    """
    window = filtered.order_by(
        *(_ordered(column, desc) for column, desc in order)
    ).limit(bindparam("limit", type_=Integer))
    window = window.offset(bindparam("offset", type_=Integer))
    if total is None:
        total = filtered.with_only_columns(
            func.count().label("total"), maintain_column_froms=True
        )
    counted = total.subquery("counted")
    joined = window.subquery("window")
    # Ordered again outside: a join does not promise to keep its inputs' order.
    outer = [_ordered(_in(joined, column), desc) for column, desc in order]
    return (
        select(counted.c[0], *joined.c)
        .select_from(counted.outerjoin(joined, true()))
        .order_by(*outer)
    )


def _in(window: Any, column: KeyedColumnElement[Any]) -> KeyedColumnElement[Any]:
    found: KeyedColumnElement[Any] | None = window.corresponding_column(column)
    if found is None:
        raise ValueError(f"{column} is not a column of the paginated select")
    return found


async def paginate_rows(
    database: Database,
    statement: Select[Any],
    params: dict[str, Any],
    *,
    page: int,
    per_page: int,
) -> PageResult[dict[str, Any]]:
    """Run a `page_statement`: the page's rows as dicts, and the exact total.

    A prebuilt select read by `Database.read`, with no session's unit of work
    around a statement that needs none.
    """
    # Ids are 32-bit, so no table has more rows than MAX_ROW_ID: any larger
    # offset is past the end, and clamping it keeps the parameter in range.
    offset = min((page - 1) * per_page, MAX_ROW_ID)
    rows = await database.read(
        statement, {**params, "limit": per_page, "offset": offset}
    )
    total = rows[0].pop("total")
    if offset >= total:  # the one row is the total alone
        return PageResult([], total, page, per_page)
    return PageResult(rows, total, page, per_page)
