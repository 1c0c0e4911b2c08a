from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OrderItemOut")


@_attrs_define
class OrderItemOut:
    """
    Attributes:
        line_total_cents (int):
        name (str):
        product_id (int):
        quantity (int):
        sku (str):
        unit_price_cents (int):
    """

    line_total_cents: int
    name: str
    product_id: int
    quantity: int
    sku: str
    unit_price_cents: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        line_total_cents = self.line_total_cents

        name = self.name

        product_id = self.product_id

        quantity = self.quantity

        sku = self.sku

        unit_price_cents = self.unit_price_cents

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "line_total_cents": line_total_cents,
                "name": name,
                "product_id": product_id,
                "quantity": quantity,
                "sku": sku,
                "unit_price_cents": unit_price_cents,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        line_total_cents = d.pop("line_total_cents")

        name = d.pop("name")

        product_id = d.pop("product_id")

        quantity = d.pop("quantity")

        sku = d.pop("sku")

        unit_price_cents = d.pop("unit_price_cents")

        order_item_out = cls(
            line_total_cents=line_total_cents,
            name=name,
            product_id=product_id,
            quantity=quantity,
            sku=sku,
            unit_price_cents=unit_price_cents,
        )

        order_item_out.additional_properties = d
        return order_item_out

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
