"""The error model: one `AppError` tree and the one handler that renders it.

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

Every error leaves as RFC 9457 `application/problem+json`. Werkzeug's HTTP
errors, quart-schema's validation errors and database outages are translated
into the same shape here and nowhere else; a 500 never shows exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import ValidationError
from quart import Quart, Response
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import (
    QuerystringValidationError,
    RequestHeadersValidationError,
)
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

PROBLEM_JSON = "application/problem+json"
E = TypeVar("E", bound=BaseException)
logger = logging.getLogger(__name__)


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


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}

# Errors that mean "the database is unreachable or saturated", not "a bug".
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # the pool had no connection within pool_timeout
    ConnectionError,
    TimeoutError,
)


# PostgreSQL refusing service rather than failing a statement: connection
# exceptions (08), insufficient resources such as too many clients (53),
# operator intervention such as starting up or shutting down (57P), and a
# database not accepting connections (55000). asyncpg reports these as generic
# DBAPI errors, told apart only by their SQLSTATE.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P", "55000")


def is_database_unavailable(error: BaseException) -> bool:
    """True for an outage; also a connection dropped mid-query, which the driver
    reports as a generic DBAPI error that SQLAlchemy flags as a disconnect."""
    if isinstance(error, DATABASE_UNAVAILABLE):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return error.connection_invalidated or sqlstate.startswith(
        _UNAVAILABLE_SQLSTATE_PREFIXES
    )


# PostgreSQL deadlock_detected and serialization_failure: the transaction was
# rolled back whole and may simply be sent again.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient_conflict(error: BaseException) -> bool:
    """A deadlock or serialization failure: nothing was written; retrying is safe."""
    return (
        isinstance(error, sa_exc.DBAPIError)
        and getattr(error.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES
    )


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> Response:
    """Render one problem document; the only place error bodies are made."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **members,
    }
    response = Response(orjson.dumps(body), status=status, content_type=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def validation_errors(error: ValidationError, location: str) -> list[dict[str, Any]]:
    """Pydantic's errors without their `input` (it may hold a password)."""
    return [
        {"loc": [location, *item["loc"]], "msg": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_input=False)
    ]


def _schema_validation(error: RequestSchemaValidationError) -> Response:
    if isinstance(error, QuerystringValidationError):
        location = "query"
    elif isinstance(error, RequestHeadersValidationError):
        location = "header"
    else:
        location = "body"
    cause = error.validation_error
    if isinstance(cause, ValidationError):
        errors = validation_errors(cause, location)
    else:
        errors = [{"loc": [location], "msg": "Invalid input", "type": "value_error"}]
    return _render(ValidationFailed(errors))


def _render(error: AppError) -> Response:
    return problem_response(
        error.status, error.code, error.detail, headers=error.headers, **error.members
    )


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return _unexpected(error)
    # Keep werkzeug's own headers (Allow on 405, for instance), not its HTML type.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return problem_response(
        status,
        _HTTP_CODES.get(status, "bad_request"),
        error.description or HTTPStatus(status).phrase,
        headers=headers,
    )


def _unexpected(error: BaseException) -> Response:
    original = error
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        # Raised past the view (in after_request, say); Quart has logged it.
        original = error.original_exception
    if isinstance(original, AppError):
        return _render(original)
    if is_database_unavailable(original):
        logger.warning("database unavailable: %s", type(original).__name__)
        return _render(ServiceUnavailable("The database is unavailable; retry later."))
    if is_transient_conflict(original):
        logger.warning("transaction conflict: %s", type(original).__name__)
        return _render(ServiceUnavailable("A concurrent change got in the way; retry."))
    if original is error:
        logger.error("unhandled error", exc_info=error)
    return problem_response(500, "internal_error", AppError.default_detail)


def _as_handler(render: Callable[[E], Response]) -> Callable[[E], Awaitable[Response]]:
    """A coroutine handler: Quart runs plain functions in its thread pool, a
    thread hop for every error response."""

    async def handle(error: E) -> Response:
        return render(error)

    return handle


def register_error_handlers(app: Quart) -> None:
    """Route every error through the renderers above."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.register_error_handler(AppError, _as_handler(_render))
    app.register_error_handler(
        RequestSchemaValidationError, _as_handler(_schema_validation)
    )
    app.register_error_handler(HTTPException, _as_handler(_http_error))
    app.register_error_handler(Exception, _as_handler(_unexpected))
