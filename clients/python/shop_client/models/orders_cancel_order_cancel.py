from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="OrdersCancelOrderCancel")


@_attrs_define
class OrdersCancelOrderCancel:
    """No fields: the body is empty or `{}`; anything in it is a 422."""

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        orders_cancel_order_cancel = cls()

        return orders_cancel_order_cancel
