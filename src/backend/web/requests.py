"""Per-request plumbing: the request class, request ids and security headers."""

from __future__ import annotations

import re
import uuid
from typing import Any

from quart import (
    Quart,
    Request,
    Response,
    Websocket,
    g,
    has_request_context,
    request,
    websocket,
)
from quart.sessions import SecureCookieSessionInterface, SessionMixin
from quart.typing import ResponseTypes
from quart.wrappers import BaseRequestWebsocket
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response as WerkzeugResponse

from backend.models.base import MAX_ROW_ID
from backend.server.keep_alive import close_unfinished_requests
from backend.server.logs import request_id_var

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_DOCS_PATHS = frozenset({"/docs"})
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# /docs loads Swagger UI from this service only (backend.api.docs); its
# scripts are files, and it styles elements from script, hence the inline styles.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class ApiRequest(Request):
    """A JSON body, or `{}` when there is none; anything else is not JSON (415).

    An empty body reads as `{}` so optional bodies need no special case and a
    required one is a 422 naming the missing fields; a literal `null` is not an
    object and is refused like any other wrong type.
    """

    async def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> Any:
        body = await self.get_data(cache=True, as_text=False, parse_form_data=False)
        if not body:
            return {}
        if not (force or self.is_json):
            raise UnsupportedMediaType("The request body must be application/json.")
        try:
            body.decode()  # JSON is UTF-8 (RFC 8259); Quart would raise a 500
        except UnicodeDecodeError:
            raise BadRequest("The request body is not valid UTF-8.") from None
        try:
            return await super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            # The stdlib parser recurses once per nesting level and gives up at
            # the interpreter's limit: malformed input, not a server error. It
            # fails within the first thousand levels, so this stays cheap.
            raise BadRequest("The request body is nested too deeply.") from None


class ApiWebsocket(Websocket):
    """Quart's websocket, without a yield to the event loop before every frame.

    Quart sleeps before each send so that a handler sending in a tight loop
    cannot hog the loop. The order-event sender already waits on its queue
    between frames, and one event goes out to thousands of sockets at once:
    the extra wake-up per frame doubled the scheduling work of a fan-out.
    """

    async def send(self, data: str | bytes) -> None:
        await self.accept()
        await self._send(data)


# Ids are 32-bit integer columns: a larger id in a path cannot exist, so it is
# a plain 404 rather than an out-of-range error from the database. (werkzeug's
# own `max` makes such a path a 405, so the id becomes 0, which never exists.)
MAX_PATH_ID = MAX_ROW_ID


class IdConverter(IntegerConverter):
    """`<int:...>` whose values beyond any storable id match no row."""

    max_id = MAX_PATH_ID

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        return number if number <= self.max_id else 0


def _incoming() -> BaseRequestWebsocket:
    """The request being served, or the websocket whose handshake is."""
    return request if has_request_context() else websocket


# The hooks are coroutines on purpose: Quart runs a plain function hook in its
# thread pool, a thread hop per request per hook (and a context var set there
# would not reach the request's own context).
async def _assign_request_id() -> None:
    given = _incoming().headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    g.request_id = request_id
    request_id_var.set(request_id)


async def _finish_headers(response: ResponseTypes) -> ResponseTypes:
    headers = response.headers
    headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault(
        "Content-Security-Policy",
        DOCS_CSP if _incoming().path in _DOCS_PATHS else API_CSP,
    )
    return response


async def _finish_refused_handshake(
    response: ResponseTypes | None,
) -> ResponseTypes | None:
    """A refused websocket handshake is an HTTP response like any other.

    None means the socket was accepted; its 101 carried the request id.
    """
    return None if response is None else await _finish_headers(response)


class NoSessions(SecureCookieSessionInterface):
    """The API is stateless (bearer tokens): no cookie session is opened or saved.

    Quart's default interface would sign and verify a session cookie on every
    request that nothing here ever reads.
    """

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> None:
        return None  # Quart then uses its null session

    async def save_session(
        self,
        app: Quart,
        session: SessionMixin,
        response: Response | WerkzeugResponse | None,
    ) -> None:
        return None


def init_app(app: Quart) -> None:
    app.session_interface = NoSessions()
    app.request_class = ApiRequest
    app.websocket_class = ApiWebsocket
    app.url_map.converters["int"] = IdConverter
    app.before_request(_assign_request_id)
    app.after_request(_finish_headers)
    app.before_websocket(_assign_request_id)
    app.after_websocket(_finish_refused_handshake)
    app.asgi_app = close_unfinished_requests(app.asgi_app)  # type: ignore[method-assign, assignment]
