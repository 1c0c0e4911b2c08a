from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AuthLoginLoginIn")


@_attrs_define
class AuthLoginLoginIn:
    """
    Attributes:
        password (str):
        username (str):
        otp (None | str | Unset):
    """

    password: str
    username: str
    otp: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        password = self.password

        username = self.username

        otp: None | str | Unset
        if isinstance(self.otp, Unset):
            otp = UNSET
        else:
            otp = self.otp

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "password": password,
                "username": username,
            }
        )
        if otp is not UNSET:
            field_dict["otp"] = otp

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        password = d.pop("password")

        username = d.pop("username")

        def _parse_otp(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        otp = _parse_otp(d.pop("otp", UNSET))

        auth_login_login_in = cls(
            password=password,
            username=username,
            otp=otp,
        )

        return auth_login_login_in
