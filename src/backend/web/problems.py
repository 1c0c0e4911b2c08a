"""problem+json: the one place error bodies are made, and the handlers that do it.

Every error leaves as RFC 9457 `application/problem+json`. Werkzeug's HTTP
errors, quart-schema's validation errors and database outages are translated
into the same shape here and nowhere else; a 500 never shows exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError
from quart import Quart, Response
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import (
    QuerystringValidationError,
    RequestHeadersValidationError,
)
from werkzeug.exceptions import HTTPException, InternalServerError

from backend.db.failures import is_database_unavailable, is_transient_conflict
from backend.errors import AppError, ServiceUnavailable, ValidationFailed

PROBLEM_JSON = "application/problem+json"
E = TypeVar("E", bound=BaseException)
logger = logging.getLogger(__name__)

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
