from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AuthVerifyEmailUserOut")


@_attrs_define
class AuthVerifyEmailUserOut:
    """
    Attributes:
        created_at (datetime.datetime):
        email (str):
        email_verified (bool):
        first_name (None | str):
        id (int):
        is_active (bool):
        is_admin (bool):
        last_name (None | str):
        mfa_enabled (bool):
        updated_at (datetime.datetime):
        username (str):
    """

    created_at: datetime.datetime
    email: str
    email_verified: bool
    first_name: None | str
    id: int
    is_active: bool
    is_admin: bool
    last_name: None | str
    mfa_enabled: bool
    updated_at: datetime.datetime
    username: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        email = self.email

        email_verified = self.email_verified

        first_name: None | str
        first_name = self.first_name

        id = self.id

        is_active = self.is_active

        is_admin = self.is_admin

        last_name: None | str
        last_name = self.last_name

        mfa_enabled = self.mfa_enabled

        updated_at = self.updated_at.isoformat()

        username = self.username

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "email_verified": email_verified,
                "first_name": first_name,
                "id": id,
                "is_active": is_active,
                "is_admin": is_admin,
                "last_name": last_name,
                "mfa_enabled": mfa_enabled,
                "updated_at": updated_at,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        email = d.pop("email")

        email_verified = d.pop("email_verified")

        def _parse_first_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        first_name = _parse_first_name(d.pop("first_name"))

        id = d.pop("id")

        is_active = d.pop("is_active")

        is_admin = d.pop("is_admin")

        def _parse_last_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_name = _parse_last_name(d.pop("last_name"))

        mfa_enabled = d.pop("mfa_enabled")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        username = d.pop("username")

        auth_verify_email_user_out = cls(
            created_at=created_at,
            email=email,
            email_verified=email_verified,
            first_name=first_name,
            id=id,
            is_active=is_active,
            is_admin=is_admin,
            last_name=last_name,
            mfa_enabled=mfa_enabled,
            updated_at=updated_at,
            username=username,
        )

        auth_verify_email_user_out.additional_properties = d
        return auth_verify_email_user_out

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
