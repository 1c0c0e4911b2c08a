from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="WebhooksRedeliverRedeliver")


@_attrs_define
class WebhooksRedeliverRedeliver:
    """
    Attributes:
        event_id (int):
    """

    event_id: int

    def to_dict(self) -> dict[str, Any]:
        event_id = self.event_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event_id": event_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_id = d.pop("event_id")

        webhooks_redeliver_redeliver = cls(
            event_id=event_id,
        )

        return webhooks_redeliver_redeliver
