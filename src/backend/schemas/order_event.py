"""Order events as clients see them: one shape for the socket, the page and AsyncAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, Field

from backend.schemas.common import OutputSchema, QuerySchema
from backend.schemas.order import OrderOut, OrderStatus

EventType = Literal["order.created", "order.status_changed"]


class OrderEventOut(OutputSchema):
    """One committed order change; `id` is a cursor in commit order."""

    id: int
    type: EventType
    order_id: int
    user_id: int
    status: OrderStatus
    previous_status: OrderStatus | None
    occurred_at: datetime
    order: OrderOut = Field(validation_alias=AliasChoices("order", "order_snapshot"))


class OrderEventPage(OutputSchema):
    items: list[OrderEventOut]
    next_since: int = Field(description="The `since` to pass for the next page.")


class OrderEventQuery(QuerySchema):
    since: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)
