from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhooks_update_webhook_update_event_types_item import WebhooksUpdateWebhookUpdateEventTypesItem
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhooksUpdateWebhookUpdate")


@_attrs_define
class WebhooksUpdateWebhookUpdate:
    """Only these fields may change; any other is a 422 (extra fields forbidden).

    Attributes:
        description (None | str | Unset):
        enabled (bool | Unset):
        event_types (list[WebhooksUpdateWebhookUpdateEventTypesItem] | Unset):
        url (str | Unset):
    """

    description: None | str | Unset = UNSET
    enabled: bool | Unset = UNSET
    event_types: list[WebhooksUpdateWebhookUpdateEventTypesItem] | Unset = UNSET
    url: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        enabled = self.enabled

        event_types: list[str] | Unset = UNSET
        if not isinstance(self.event_types, Unset):
            event_types = []
            for event_types_item_data in self.event_types:
                event_types_item = event_types_item_data.value
                event_types.append(event_types_item)

        url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if description is not UNSET:
            field_dict["description"] = description
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if event_types is not UNSET:
            field_dict["event_types"] = event_types
        if url is not UNSET:
            field_dict["url"] = url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        enabled = d.pop("enabled", UNSET)

        _event_types = d.pop("event_types", UNSET)
        event_types: list[WebhooksUpdateWebhookUpdateEventTypesItem] | Unset = UNSET
        if _event_types is not UNSET:
            event_types = []
            for event_types_item_data in _event_types:
                event_types_item = WebhooksUpdateWebhookUpdateEventTypesItem(event_types_item_data)

                event_types.append(event_types_item)

        url = d.pop("url", UNSET)

        webhooks_update_webhook_update = cls(
            description=description,
            enabled=enabled,
            event_types=event_types,
            url=url,
        )

        return webhooks_update_webhook_update
