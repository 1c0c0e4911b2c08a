from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AuthChangePasswordChangePasswordIn")


@_attrs_define
class AuthChangePasswordChangePasswordIn:
    """
    Attributes:
        current_password (str):
        new_password (str):
        new_password_confirm (str):
    """

    current_password: str
    new_password: str
    new_password_confirm: str

    def to_dict(self) -> dict[str, Any]:
        current_password = self.current_password

        new_password = self.new_password

        new_password_confirm = self.new_password_confirm

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "current_password": current_password,
                "new_password": new_password,
                "new_password_confirm": new_password_confirm,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        current_password = d.pop("current_password")

        new_password = d.pop("new_password")

        new_password_confirm = d.pop("new_password_confirm")

        auth_change_password_change_password_in = cls(
            current_password=current_password,
            new_password=new_password,
            new_password_confirm=new_password_confirm,
        )

        return auth_change_password_change_password_in
