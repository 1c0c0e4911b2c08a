"""Per-request plumbing: the request class, request ids and security headers."""

from __future__ import annotations

import re
import uuid
from typing import Any

from quart import Quart, Request, Response, g, request
from werkzeug.exceptions import UnsupportedMediaType

from backend.logs import request_id_var

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_DOCS_PATHS = frozenset({"/docs"})
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdnjs.cloudflare.com; "
    "style-src 'self' 'unsafe-inline' https://cdnjs.cloudflare.com; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class ApiRequest(Request):
    """A request whose JSON body is optional but, when present, must be JSON."""

    async def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> Any:
        body = await self.get_data(cache=True)
        if not body:
            return None
        if not (force or self.is_json):
            raise UnsupportedMediaType("The request body must be application/json.")
        return await super().get_json(force=force, silent=silent, cache=cache)


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    g.request_id = request_id
    request_id_var.set(request_id)


def _finish_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault(
        "Content-Security-Policy", DOCS_CSP if request.path in _DOCS_PATHS else API_CSP
    )
    return response


def init_app(app: Quart) -> None:
    app.request_class = ApiRequest
    app.before_request(_assign_request_id)
    app.after_request(_finish_headers)
