from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.order_out import OrderOut


T = TypeVar("T", bound="OrdersListOrderPage")


@_attrs_define
class OrdersListOrderPage:
    """
    Attributes:
        items (list[OrderOut]):
        page (int):
        pages (int):
        per_page (int):
        total (int):
    """

    items: list[OrderOut]
    page: int
    pages: int
    per_page: int
    total: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        page = self.page

        pages = self.pages

        per_page = self.per_page

        total = self.total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "page": page,
                "pages": pages,
                "per_page": per_page,
                "total": total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_out import OrderOut  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderOut.from_dict(items_item_data)

            items.append(items_item)

        page = d.pop("page")

        pages = d.pop("pages")

        per_page = d.pop("per_page")

        total = d.pop("total")

        orders_list_order_page = cls(
            items=items,
            page=page,
            pages=pages,
            per_page=per_page,
            total=total,
        )

        orders_list_order_page.additional_properties = d
        return orders_list_order_page

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
