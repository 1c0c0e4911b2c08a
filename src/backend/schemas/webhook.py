"""Webhook endpoints in and out, their secrets, and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from backend.schemas.common import (
    NOT_BLANK,
    InputSchema,
    OutputSchema,
    Page,
    PageQuery,
    Stripped,
)
from backend.webhooks.addresses import check_url

EventType = Annotated[Literal["order.created", "order.status_changed"], Stripped]
ALL_EVENT_TYPES: tuple[EventType, ...] = ("order.created", "order.status_changed")
DeliveryStatus = Annotated[Literal["succeeded", "failed"], Stripped]
Url = Annotated[str, Field(min_length=1, max_length=2000, json_schema_extra=NOT_BLANK)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=2)]
Description = Annotated[str | None, Field(max_length=500)]


def _url(value: str) -> str:
    check_url(value)  # its ValueError is the field's 422
    return value


def _distinct(value: list[str]) -> list[str]:
    return list(dict.fromkeys(value))


class WebhookCreate(InputSchema):
    url: Url
    description: Description = None
    event_types: EventTypes = Field(default_factory=lambda: list(ALL_EVENT_TYPES))

    _check_url = field_validator("url")(_url)
    _dedupe = field_validator("event_types")(_distinct)


class WebhookUpdate(InputSchema):
    """Only these fields may change; any other is a 422 (extra fields forbidden)."""

    # SkipJsonSchema: null is not a documented value (`_no_nulls` rejects it).
    url: Url | SkipJsonSchema[None] = None
    description: Description = None
    event_types: EventTypes | SkipJsonSchema[None] = None
    enabled: bool | SkipJsonSchema[None] = None

    _check_url = field_validator("url")(lambda value: value and _url(value))
    _dedupe = field_validator("event_types")(lambda value: value and _distinct(value))

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookUpdate:
        for name in ("url", "event_types", "enabled"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class WebhookOut(OutputSchema):
    id: int
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str


class WebhookSecret(OutputSchema):
    secret: str


class WebhookPage(Page[WebhookOut]):
    pass


class DeliveryOut(OutputSchema):
    id: int
    event_id: int
    attempt: int
    status: str
    response_status: int | None
    error: str | None
    duration_ms: int
    created_at: datetime


class DeliveryPage(Page[DeliveryOut]):
    pass


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None


class Redeliver(InputSchema):
    event_id: int = Field(ge=1, le=2**63 - 1)


class Accepted(OutputSchema):
    """Accepted: the event will be sent again."""
