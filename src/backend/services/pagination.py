"""The one way to paginate: a page window over a select, plus its total.

`paginate` runs two statements (the total, then the window) over any select,
ORM entities included. `page_plan` and `paginate_rows` do the same for a
select of plain columns, built once per query shape, in one statement when the
total is known without counting: the hot catalog list uses them
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
# One sort key of `page_plan`: a column of its select, and whether descending.
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


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How `paginate_rows` reads a page: prebuilt statements, bound per request.

    `statement` is the window (bound by `:limit` and `:offset`); with no
    `count`, its first column is the total, joined in (see `page_plan`).
    """

    statement: Select[Any]
    count: Select[Any] | None = None


def page_plan(
    filtered: Select[Any],
    order: Sequence[SortKey],
    *,
    total: Select[Any] | None = None,
) -> PagePlan:
    """The statements for one page of `filtered` and its exact total.

    `total` is a one-row select of the count of `filtered` when something
    cheaper than counting is known (a maintained counter). Then the page
    takes one statement: the total is a one-row derived table outer-joined
    to the window, so a page past the end still answers one row (the total,
    every other column NULL), and both come from one snapshot. (`count(*)
    OVER ()` would read every matching row and give no total past the end.)
    Without it the rows are counted first, in their own statement, and the
    window is read only if the page is not past the end. A filtered window
    is planned for each call's values (`PLAN_PER_CALL`), and joined to it the
    count would be parsed and planned on every call too: PostgreSQL spent
    0.81 ms a page on the joined statement against 0.47 to 0.56 ms on the
    two (docs/performance.md, "A filtered page, planned per call").
    """
    window = filtered.order_by(
        *(_ordered(column, desc) for column, desc in order)
    ).limit(bindparam("limit", type_=Integer))
    window = window.offset(bindparam("offset", type_=Integer))
    if total is None:
        count = filtered.with_only_columns(
            func.count().label("total"), maintain_column_froms=True
        )
        return PagePlan(window, count)
    counted = total.subquery("counted")
    joined = window.subquery("window")
    # Ordered again outside: a join does not promise to keep its inputs' order.
    outer = [_ordered(_in(joined, column), desc) for column, desc in order]
    statement = (
        select(counted.c[0], *joined.c)
        .select_from(counted.outerjoin(joined, true()))
        .order_by(*outer)
    )
    return PagePlan(statement)


def _in(window: Any, column: KeyedColumnElement[Any]) -> KeyedColumnElement[Any]:
    found: KeyedColumnElement[Any] | None = window.corresponding_column(column)
    if found is None:
        raise ValueError(f"{column} is not a column of the paginated select")
    return found


async def paginate_rows(
    database: Database,
    plan: PagePlan,
    params: dict[str, Any],
    *,
    page: int,
    per_page: int,
) -> PageResult[dict[str, Any]]:
    """Run a `page_plan`: the page's rows as dicts, and the exact total.

    Prebuilt selects read by `Database.read`, with no session's unit of work
    around statements that need none.
    """
    # Ids are 32-bit, so no table has more rows than MAX_ROW_ID: any larger
    # offset is past the end, and clamping it keeps the parameter in range.
    offset = min((page - 1) * per_page, MAX_ROW_ID)
    bound = {**params, "limit": per_page, "offset": offset}
    if plan.count is not None:
        (counted,) = await database.read(plan.count, params)
        total: int = counted["total"]
        if offset >= total:  # past the last page: no window to read
            return PageResult([], total, page, per_page)
        rows = await database.read(plan.statement, bound)
        return PageResult(rows, total, page, per_page)
    rows = await database.read(plan.statement, bound)
    total = rows[0].pop("total")
    if offset >= total:  # the one row is the total alone
        return PageResult([], total, page, per_page)
    return PageResult(rows, total, page, per_page)
