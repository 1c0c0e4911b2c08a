"""`Connection: close` on a response that ends before its request's body arrived.

A request refused before its handler reads the body (401, 404, 413, or 503
during an outage) can be answered while the body is still on its way. Hypercorn
then closes the HTTP/1.1 connection once the response is sent, since it cannot
tell the next request from the rest of this body, but the response said
nothing of it: a keep-alive client sends its next request down the closed
connection and gets no answer ("server disconnected without sending a
response"). Saying `Connection: close` tells the client not to reuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope

ASGIApp = Callable[
    [Scope, ASGIReceiveCallable, ASGISendCallable], Coroutine[Any, Any, None]
]
_CLOSE = (b"connection", b"close")


def _has_body(scope: Scope) -> bool:
    return any(
        name == b"transfer-encoding" or (name == b"content-length" and value != b"0")
        for name, value in scope["headers"]  # type: ignore[typeddict-item]
    )


def close_unfinished_requests(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so that a response started before the whole body came closes."""

    async def asgi_app(
        scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await app(scope, receive, send)
            return
        received_all = False

        async def tracked_receive() -> Any:
            nonlocal received_all
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body"):
                received_all = True
            return message

        async def closing_send(message: Any) -> None:
            if message["type"] == "http.response.start" and not received_all:
                message = {**message, "headers": [*message["headers"], _CLOSE]}
            await send(message)

        await app(scope, tracked_receive, closing_send)

    return asgi_app
