"""User bodies and the user object."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from backend.schemas.common import InputSchema, OutputSchema, Page, PageQuery

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


def _password_rules(value: str) -> str:
    if not (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    ):
        raise ValueError(
            "must contain an upper-case letter, a lower-case letter and a digit"
        )
    return value


# Passwords are taken exactly as typed: stripping would silently change them.
RawPassword = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=1024)
]
NewPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=8, max_length=128),
    AfterValidator(_password_rules),
]
Username = Annotated[
    str, StringConstraints(min_length=3, max_length=30, pattern=USERNAME_PATTERN)
]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
Name = Annotated[str, StringConstraints(max_length=50)]


def confirmation_matches(value: str, info: ValidationInfo, field: str) -> str:
    if field in info.data and info.data[field] != value:
        raise ValueError(f"does not match {field}")
    return value


class UserCreate(InputSchema):
    username: Username
    email: Email
    password: NewPassword
    password_confirm: RawPassword
    first_name: Name | None = None
    last_name: Name | None = None

    @field_validator("password_confirm")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        return confirmation_matches(value, info, "password")


class UserUpdate(InputSchema):
    """Every writable field; which of them a caller may send depends on its role."""

    # SkipJsonSchema: null is not a documented value (the validator rejects it).
    email: Email | SkipJsonSchema[None] = None
    first_name: Name | None = None
    last_name: Name | None = None
    is_active: bool | SkipJsonSchema[None] = None
    is_admin: bool | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _required_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for field in ("email", "is_active", "is_admin"):
                if field in data and data[field] is None:
                    raise ValueError(f"{field} may not be null")
        return data


class UserOut(OutputSchema):
    id: int
    username: str
    email: str
    email_verified: bool
    first_name: str | None
    last_name: str | None
    mfa_enabled: bool
    is_active: bool
    is_admin: bool
    created_at: datetime
    updated_at: datetime


class UserQuery(PageQuery):
    q: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None, description="Username or email contains (case-insensitive)."
    )
    is_active: bool | None = None


UserPage = Page[UserOut]
