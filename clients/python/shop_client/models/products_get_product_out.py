from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProductsGetProductOut")


@_attrs_define
class ProductsGetProductOut:
    """
    Attributes:
        created_at (datetime.datetime):
        currency (str):
        description (None | str):
        id (int):
        is_active (bool):
        name (str):
        price_cents (int):
        sku (str):
        stock (int):
        updated_at (datetime.datetime):
    """

    created_at: datetime.datetime
    currency: str
    description: None | str
    id: int
    is_active: bool
    name: str
    price_cents: int
    sku: str
    stock: int
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        currency = self.currency

        description: None | str
        description = self.description

        id = self.id

        is_active = self.is_active

        name = self.name

        price_cents = self.price_cents

        sku = self.sku

        stock = self.stock

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "currency": currency,
                "description": description,
                "id": id,
                "is_active": is_active,
                "name": name,
                "price_cents": price_cents,
                "sku": sku,
                "stock": stock,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        id = d.pop("id")

        is_active = d.pop("is_active")

        name = d.pop("name")

        price_cents = d.pop("price_cents")

        sku = d.pop("sku")

        stock = d.pop("stock")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        products_get_product_out = cls(
            created_at=created_at,
            currency=currency,
            description=description,
            id=id,
            is_active=is_active,
            name=name,
            price_cents=price_cents,
            sku=sku,
            stock=stock,
            updated_at=updated_at,
        )

        products_get_product_out.additional_properties = d
        return products_get_product_out

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
