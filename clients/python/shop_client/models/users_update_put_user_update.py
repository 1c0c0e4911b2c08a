from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UsersUpdatePutUserUpdate")


@_attrs_define
class UsersUpdatePutUserUpdate:
    """Every writable field; which of them a caller may send depends on its role.

    Attributes:
        email (str | Unset):
        first_name (None | str | Unset):
        is_active (bool | Unset):
        is_admin (bool | Unset):
        last_name (None | str | Unset):
    """

    email: str | Unset = UNSET
    first_name: None | str | Unset = UNSET
    is_active: bool | Unset = UNSET
    is_admin: bool | Unset = UNSET
    last_name: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        first_name: None | str | Unset
        if isinstance(self.first_name, Unset):
            first_name = UNSET
        else:
            first_name = self.first_name

        is_active = self.is_active

        is_admin = self.is_admin

        last_name: None | str | Unset
        if isinstance(self.last_name, Unset):
            last_name = UNSET
        else:
            last_name = self.last_name

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if email is not UNSET:
            field_dict["email"] = email
        if first_name is not UNSET:
            field_dict["first_name"] = first_name
        if is_active is not UNSET:
            field_dict["is_active"] = is_active
        if is_admin is not UNSET:
            field_dict["is_admin"] = is_admin
        if last_name is not UNSET:
            field_dict["last_name"] = last_name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email", UNSET)

        def _parse_first_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        first_name = _parse_first_name(d.pop("first_name", UNSET))

        is_active = d.pop("is_active", UNSET)

        is_admin = d.pop("is_admin", UNSET)

        def _parse_last_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_name = _parse_last_name(d.pop("last_name", UNSET))

        users_update_put_user_update = cls(
            email=email,
            first_name=first_name,
            is_active=is_active,
            is_admin=is_admin,
            last_name=last_name,
        )

        return users_update_put_user_update
