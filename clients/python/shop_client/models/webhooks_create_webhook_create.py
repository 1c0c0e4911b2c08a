from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhooks_create_webhook_create_event_types_item import WebhooksCreateWebhookCreateEventTypesItem
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhooksCreateWebhookCreate")


@_attrs_define
class WebhooksCreateWebhookCreate:
    """
    Attributes:
        url (str):
        description (None | str | Unset):
        event_types (list[WebhooksCreateWebhookCreateEventTypesItem] | Unset):
    """

    url: str
    description: None | str | Unset = UNSET
    event_types: list[WebhooksCreateWebhookCreateEventTypesItem] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        event_types: list[str] | Unset = UNSET
        if not isinstance(self.event_types, Unset):
            event_types = []
            for event_types_item_data in self.event_types:
                event_types_item = event_types_item_data.value
                event_types.append(event_types_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if event_types is not UNSET:
            field_dict["event_types"] = event_types

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        _event_types = d.pop("event_types", UNSET)
        event_types: list[WebhooksCreateWebhookCreateEventTypesItem] | Unset = UNSET
        if _event_types is not UNSET:
            event_types = []
            for event_types_item_data in _event_types:
                event_types_item = WebhooksCreateWebhookCreateEventTypesItem(event_types_item_data)

                event_types.append(event_types_item)

        webhooks_create_webhook_create = cls(
            url=url,
            description=description,
            event_types=event_types,
        )

        return webhooks_create_webhook_create
