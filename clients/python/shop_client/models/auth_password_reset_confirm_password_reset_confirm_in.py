from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AuthPasswordResetConfirmPasswordResetConfirmIn")


@_attrs_define
class AuthPasswordResetConfirmPasswordResetConfirmIn:
    """
    Attributes:
        new_password (str):
        new_password_confirm (str):
        token (str):
    """

    new_password: str
    new_password_confirm: str
    token: str

    def to_dict(self) -> dict[str, Any]:
        new_password = self.new_password

        new_password_confirm = self.new_password_confirm

        token = self.token

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "new_password": new_password,
                "new_password_confirm": new_password_confirm,
                "token": token,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        new_password = d.pop("new_password")

        new_password_confirm = d.pop("new_password_confirm")

        token = d.pop("token")

        auth_password_reset_confirm_password_reset_confirm_in = cls(
            new_password=new_password,
            new_password_confirm=new_password_confirm,
            token=token,
        )

        return auth_password_reset_confirm_password_reset_confirm_in
