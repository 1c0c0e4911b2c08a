"""The one way to paginate: a page window over a select, plus its total."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


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
