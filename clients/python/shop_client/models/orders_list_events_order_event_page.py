from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.order_event_out import OrderEventOut


T = TypeVar("T", bound="OrdersListEventsOrderEventPage")


@_attrs_define
class OrdersListEventsOrderEventPage:
    """
    Attributes:
        items (list[OrderEventOut]):
        next_since (int): The `since` to pass for the next page.
    """

    items: list[OrderEventOut]
    next_since: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        next_since = self.next_since

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "next_since": next_since,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_event_out import OrderEventOut  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderEventOut.from_dict(items_item_data)

            items.append(items_item)

        next_since = d.pop("next_since")

        orders_list_events_order_event_page = cls(
            items=items,
            next_since=next_since,
        )

        orders_list_events_order_event_page.additional_properties = d
        return orders_list_events_order_event_page

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
