from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.orders_cancel_order_out_status import OrdersCancelOrderOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_item_out import OrderItemOut


T = TypeVar("T", bound="OrdersCancelOrderOut")


@_attrs_define
class OrdersCancelOrderOut:
    """
    Attributes:
        created_at (datetime.datetime):
        currency (str):
        id (int):
        items (list[OrderItemOut]):
        status (OrdersCancelOrderOutStatus):
        total_cents (int):
        updated_at (datetime.datetime):
        user_id (int):
        expires_at (datetime.datetime | None | Unset): When a pending order expires; null otherwise.
    """

    created_at: datetime.datetime
    currency: str
    id: int
    items: list[OrderItemOut]
    status: OrdersCancelOrderOutStatus
    total_cents: int
    updated_at: datetime.datetime
    user_id: int
    expires_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        currency = self.currency

        id = self.id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        status = self.status.value

        total_cents = self.total_cents

        updated_at = self.updated_at.isoformat()

        user_id = self.user_id

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "currency": currency,
                "id": id,
                "items": items,
                "status": status,
                "total_cents": total_cents,
                "updated_at": updated_at,
                "user_id": user_id,
            }
        )
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_item_out import OrderItemOut  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        id = d.pop("id")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderItemOut.from_dict(items_item_data)

            items.append(items_item)

        status = OrdersCancelOrderOutStatus(d.pop("status"))

        total_cents = d.pop("total_cents")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        user_id = d.pop("user_id")

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        orders_cancel_order_out = cls(
            created_at=created_at,
            currency=currency,
            id=id,
            items=items,
            status=status,
            total_cents=total_cents,
            updated_at=updated_at,
            user_id=user_id,
            expires_at=expires_at,
        )

        orders_cancel_order_out.additional_properties = d
        return orders_cancel_order_out

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
