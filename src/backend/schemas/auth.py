"""Auth bodies and token responses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from backend.schemas.common import NOT_BLANK, InputSchema
from backend.schemas.user import (
    Email,
    NewPassword,
    RawPassword,
    UserCreate,
    UserOut,
    confirmation_matches,
)

RegisterIn = UserCreate


# A TOTP code or a recovery code (`XXXX-XXXX-XXXX-XXXX`, dashes optional).
# Surrounding whitespace is stripped, so a code of whitespace alone is empty
# (422): the documented pattern says so with Python's whitespace (JSON
# Schema's `\\s` lacks U+0085, which the fuzzer found called valid).
OneTimeCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(json_schema_extra=NOT_BLANK),
]


class LoginIn(InputSchema):
    username: Annotated[
        str,
        StringConstraints(min_length=1, max_length=320),
        Field(json_schema_extra=NOT_BLANK),
    ]
    password: RawPassword
    otp: OneTimeCode | None = None


class RefreshIn(InputSchema):
    """May be empty (no body reads as `{}`): the token is then the Bearer header."""

    refresh_token: str | None = None


class LogoutIn(InputSchema):
    """May be empty; a refresh token given here has its session ended too."""

    refresh_token: str | None = None


class ChangePasswordIn(InputSchema):
    current_password: RawPassword
    new_password: NewPassword
    new_password_confirm: RawPassword

    @field_validator("new_password_confirm")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        return confirmation_matches(value, info, "new_password")


# Issued tokens are 43 characters; the bound only keeps junk out of the hash.
AccountTokenText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(json_schema_extra=NOT_BLANK),
]


class PasswordResetIn(InputSchema):
    email: Email


class PasswordResetConfirmIn(InputSchema):
    token: AccountTokenText
    new_password: NewPassword
    new_password_confirm: RawPassword

    @field_validator("new_password_confirm")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        return confirmation_matches(value, info, "new_password")


class VerifyEmailIn(InputSchema):
    token: AccountTokenText


class Accepted(BaseModel):
    """202: the request was taken; what follows happens by email."""

    status: Literal["accepted"] = "accepted"


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class AuthOut(TokenPair):
    user: UserOut


class TotpSetupIn(InputSchema):
    password: RawPassword


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirmIn(InputSchema):
    code: OneTimeCode


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class TotpDisableIn(InputSchema):
    password: RawPassword
    code: OneTimeCode
