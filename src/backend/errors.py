"""The error model: one `AppError` tree; services raise these.

    AppError                     500 internal_error
    ├── BadRequest               400 bad_request
    ├── NotAuthenticated         401 unauthorized (+ WWW-Authenticate: Bearer)
    ├── PermissionDenied         403 forbidden
    ├── NotFound                 404 not_found
    ├── Conflict                 409 (code names the conflict)
    ├── Gone                     410 gone (code names what is gone)
    ├── ValidationFailed         422 validation_error (+ errors[])
    ├── RateLimited              429 rate_limited (+ Retry-After)
    └── ServiceUnavailable       503 service_unavailable (+ Retry-After)

Every error leaves as RFC 9457 `application/problem+json`, rendered by
`backend.web.problems` (with werkzeug's, quart-schema's and database outages).
This module knows neither Quart nor SQLAlchemy, so any layer may import it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_detail: ClassVar[str] = "The server could not complete the request."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **members: Any,
    ) -> None:
        self.detail = detail or self.default_detail
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.headers = dict(headers or {})
        self.members = members
        super().__init__(self.detail)


class BadRequest(AppError):
    status, code, default_detail = (
        400,
        "bad_request",
        "The request could not be understood.",
    )


class NotAuthenticated(AppError):
    status, code, default_detail = (
        401,
        "unauthorized",
        "A valid access token is required.",
    )

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class PermissionDenied(AppError):
    status, code, default_detail = 403, "forbidden", "You are not allowed to do this."


class NotFound(AppError):
    status, code, default_detail = 404, "not_found", "The resource does not exist."


class Conflict(AppError):
    status, code, default_detail = (
        409,
        "conflict",
        "The request conflicts with current state.",
    )


class Gone(AppError):
    status, code, default_detail = 410, "gone", "The resource is no longer available."


class ValidationFailed(AppError):
    status, code, default_detail = 422, "validation_error", "The request is not valid."

    def __init__(
        self, errors: list[dict[str, Any]], detail: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(detail, errors=errors, **kwargs)


class RateLimited(AppError):
    status, code, default_detail = (
        429,
        "rate_limited",
        "Too many requests; retry later.",
    )

    def __init__(
        self, retry_after: int, detail: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(detail, **kwargs)
        self.headers["Retry-After"] = str(max(1, retry_after))


class ServiceUnavailable(AppError):
    status, code = 503, "service_unavailable"
    default_detail = "The service is temporarily unavailable; retry later."

    def __init__(
        self, detail: str | None = None, retry_after: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(detail, **kwargs)
        self.headers["Retry-After"] = str(retry_after)
