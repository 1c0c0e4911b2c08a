from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductsUpdateProductUpdate")


@_attrs_define
class ProductsUpdateProductUpdate:
    """Any create field, plus `is_active`; only the fields sent are changed.

    Attributes:
        description (None | str | Unset):
        is_active (bool | Unset):
        name (str | Unset):
        price_cents (int | Unset):
        sku (str | Unset):
        stock (int | Unset):
    """

    description: None | str | Unset = UNSET
    is_active: bool | Unset = UNSET
    name: str | Unset = UNSET
    price_cents: int | Unset = UNSET
    sku: str | Unset = UNSET
    stock: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        is_active = self.is_active

        name = self.name

        price_cents = self.price_cents

        sku = self.sku

        stock = self.stock

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if description is not UNSET:
            field_dict["description"] = description
        if is_active is not UNSET:
            field_dict["is_active"] = is_active
        if name is not UNSET:
            field_dict["name"] = name
        if price_cents is not UNSET:
            field_dict["price_cents"] = price_cents
        if sku is not UNSET:
            field_dict["sku"] = sku
        if stock is not UNSET:
            field_dict["stock"] = stock

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

        is_active = d.pop("is_active", UNSET)

        name = d.pop("name", UNSET)

        price_cents = d.pop("price_cents", UNSET)

        sku = d.pop("sku", UNSET)

        stock = d.pop("stock", UNSET)

        products_update_product_update = cls(
            description=description,
            is_active=is_active,
            name=name,
            price_cents=price_cents,
            sku=sku,
            stock=stock,
        )

        return products_update_product_update
