from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.orders_update_status_order_status_update_status import OrdersUpdateStatusOrderStatusUpdateStatus

T = TypeVar("T", bound="OrdersUpdateStatusOrderStatusUpdate")


@_attrs_define
class OrdersUpdateStatusOrderStatusUpdate:
    """
    Attributes:
        status (OrdersUpdateStatusOrderStatusUpdateStatus):
    """

    status: OrdersUpdateStatusOrderStatusUpdateStatus

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = OrdersUpdateStatusOrderStatusUpdateStatus(d.pop("status"))

        orders_update_status_order_status_update = cls(
            status=status,
        )

        return orders_update_status_order_status_update
