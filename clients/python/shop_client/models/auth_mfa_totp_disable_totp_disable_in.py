from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AuthMfaTotpDisableTotpDisableIn")


@_attrs_define
class AuthMfaTotpDisableTotpDisableIn:
    """
    Attributes:
        code (str):
        password (str):
    """

    code: str
    password: str

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        password = self.password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "password": password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code = d.pop("code")

        password = d.pop("password")

        auth_mfa_totp_disable_totp_disable_in = cls(
            code=code,
            password=password,
        )

        return auth_mfa_totp_disable_totp_disable_in
