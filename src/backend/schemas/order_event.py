"""Order events as clients see them: one shape for the socket, the page and AsyncAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, ConfigDict, Field

from backend.schemas.common import OutputSchema, QuerySchema

EventType = Literal["order.created", "order.status_changed"]


class OrderLineSnapshot(OutputSchema):
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderSnapshot(OutputSchema):
    """The order object right after the change (the orders API's Order shape)."""

    # Captured by the orders service; tolerate members added there later.
    model_config = ConfigDict(from_attributes=True, extra="allow")

    id: int
    user_id: int
    status: str
    items: list[OrderLineSnapshot]
    total_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime


class OrderEventOut(OutputSchema):
    """One committed order change; `id` is a cursor in commit order."""

    id: int
    type: EventType
    order_id: int
    user_id: int
    status: str
    previous_status: str | None
    occurred_at: datetime
    order: OrderSnapshot = Field(
        validation_alias=AliasChoices("order", "order_snapshot")
    )


class OrderEventPage(OutputSchema):
    items: list[OrderEventOut]
    next_since: int = Field(description="The `since` to pass for the next page.")


class OrderEventQuery(QuerySchema):
    since: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)
