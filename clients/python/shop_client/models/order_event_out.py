from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_event_out_previous_status_type_0 import OrderEventOutPreviousStatusType0
from ..models.order_event_out_status import OrderEventOutStatus
from ..models.order_event_out_type import OrderEventOutType

if TYPE_CHECKING:
    from ..models.order_out import OrderOut


T = TypeVar("T", bound="OrderEventOut")


@_attrs_define
class OrderEventOut:
    """One committed order change; `id` is a cursor in commit order.

    Attributes:
        id (int):
        occurred_at (datetime.datetime):
        order (OrderOut):
        order_id (int):
        previous_status (None | OrderEventOutPreviousStatusType0):
        status (OrderEventOutStatus):
        type_ (OrderEventOutType):
        user_id (int):
    """

    id: int
    occurred_at: datetime.datetime
    order: OrderOut
    order_id: int
    previous_status: None | OrderEventOutPreviousStatusType0
    status: OrderEventOutStatus
    type_: OrderEventOutType
    user_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        occurred_at = self.occurred_at.isoformat()

        order = self.order.to_dict()

        order_id = self.order_id

        previous_status: None | str
        if isinstance(self.previous_status, OrderEventOutPreviousStatusType0):
            previous_status = self.previous_status.value
        else:
            previous_status = self.previous_status

        status = self.status.value

        type_ = self.type_.value

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "occurred_at": occurred_at,
                "order": order,
                "order_id": order_id,
                "previous_status": previous_status,
                "status": status,
                "type": type_,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_out import OrderOut  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        order = OrderOut.from_dict(d.pop("order"))

        order_id = d.pop("order_id")

        def _parse_previous_status(data: object) -> None | OrderEventOutPreviousStatusType0:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_status_type_0 = OrderEventOutPreviousStatusType0(data)

                return previous_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OrderEventOutPreviousStatusType0, data)

        previous_status = _parse_previous_status(d.pop("previous_status"))

        status = OrderEventOutStatus(d.pop("status"))

        type_ = OrderEventOutType(d.pop("type"))

        user_id = d.pop("user_id")

        order_event_out = cls(
            id=id,
            occurred_at=occurred_at,
            order=order,
            order_id=order_id,
            previous_status=previous_status,
            status=status,
            type_=type_,
            user_id=user_id,
        )

        order_event_out.additional_properties = d
        return order_event_out

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
