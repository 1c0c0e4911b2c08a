"""Order bodies, headers, query string and output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, model_validator

from backend.models.base import MAX_ROW_ID
from backend.models.order import OrderStatusName
from backend.schemas.common import (
    InputSchema,
    OutputSchema,
    Page,
    PageQuery,
    QuerySchema,
    Stripped,
)
from backend.schemas.product import JsonInt, JsonNumber

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID), JsonNumber]
OrderStatus = Annotated[OrderStatusName, Stripped]


class OrderLine(InputSchema):
    product_id: RowId
    quantity: JsonInt = Field(ge=1, le=1000)


class OrderCreate(InputSchema):
    items: list[OrderLine] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _each_product_once(self) -> OrderCreate:
        ids = [line.product_id for line in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("each product may appear at most once")
        return self


class IdempotencyHeaders(QuerySchema):
    """The optional `Idempotency-Key` header of `POST /orders`."""

    idempotency_key: str | None = Field(
        default=None, alias="Idempotency-Key", min_length=1, max_length=255
    )

    @model_validator(mode="before")
    @classmethod
    def _by_header_name(cls, data: Any) -> Any:
        # quart-schema passes headers by field name; renaming them to the
        # alias makes errors name the header (`loc: ["header", "Idempotency-Key"]`).
        if isinstance(data, dict) and "idempotency_key" in data:
            data = {"Idempotency-Key": data["idempotency_key"]}
        return data


class OrderQuery(PageQuery):
    user_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    status: OrderStatus | None = None


class OrderStatusUpdate(InputSchema):
    status: OrderStatus


class OrderCancel(InputSchema):
    """No fields: the body is empty or `{}`; anything in it is a 422."""


class OrderItemOut(OutputSchema):
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderOut(OutputSchema):
    id: int
    user_id: int
    status: OrderStatus
    items: list[OrderItemOut]
    total_cents: int
    currency: str
    expires_at: datetime | None = Field(
        default=None, description="When a pending order expires; null otherwise."
    )
    created_at: datetime
    updated_at: datetime


class OrderPage(Page[OrderOut]):
    pass
