from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductsCreateProductCreate")


@_attrs_define
class ProductsCreateProductCreate:
    """
    Attributes:
        name (str):
        price_cents (int):
        sku (str):
        stock (int):
        description (None | str | Unset):
    """

    name: str
    price_cents: int
    sku: str
    stock: int
    description: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        price_cents = self.price_cents

        sku = self.sku

        stock = self.stock

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "price_cents": price_cents,
                "sku": sku,
                "stock": stock,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        price_cents = d.pop("price_cents")

        sku = d.pop("sku")

        stock = d.pop("stock")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        products_create_product_create = cls(
            name=name,
            price_cents=price_cents,
            sku=sku,
            stock=stock,
            description=description,
        )

        return products_create_product_create
