"""A page on another origin uses the API from a real browser: fetch and websocket.

The page is served at a second origin (another port), which `CORS_ORIGINS`
allows; every header the contract exposes to scripts is read by the script.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import Browser

from tests.support.live_data import LiveData
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

# Runs in the page: register (a second try is rate limited), log in, read a
# product twice (ETag), place an order twice with one Idempotency-Key (the
# replay is marked), and receive the order on the events websocket.
SCRIPT = """
async ({api, ws, productId, name}) => {
  const json = {"Content-Type": "application/json"};
  const password = "Sturdy-Pass-42";
  const account = {username: name, email: name + "@example.com",
                   password, password_confirm: password};
  const register = await fetch(api + "/api/v1/auth/register",
      {method: "POST", headers: json, body: JSON.stringify(account)});
  const again = await fetch(api + "/api/v1/auth/register", {method: "POST",
      headers: json, body: JSON.stringify({...account, username: name + "x",
                                           email: name + "x@example.com"})});
  const login = await fetch(api + "/api/v1/auth/login", {method: "POST",
      headers: json, body: JSON.stringify({username: name, password})});
  const token = (await login.json()).access_token;
  const auth = {Authorization: "Bearer " + token};
  const unauthorized = await fetch(api + "/api/v1/auth/me");
  const product = await fetch(api + "/api/v1/products/" + productId);

  const socket = new WebSocket(ws + "/api/v1/orders/events?access_token=" + token);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const received = new Promise((resolve) => {
    socket.onmessage = (message) => resolve(JSON.parse(message.data));
  });
  const order = {method: "POST", headers: {...json, ...auth, "Idempotency-Key": name},
                 body: JSON.stringify({items: [{product_id: productId, quantity: 1}]})};
  const placed = await fetch(api + "/api/v1/orders", order);
  const replayed = await fetch(api + "/api/v1/orders", order);
  const event = await received;
  socket.close();
  return {
    register: register.status,
    location: register.headers.get("Location"),
    requestId: register.headers.get("X-Request-ID"),
    again: again.status,
    retryAfter: again.headers.get("Retry-After"),
    wwwAuthenticate: unauthorized.headers.get("WWW-Authenticate"),
    etag: product.headers.get("ETag"),
    placed: placed.status,
    placedId: (await placed.json()).id,
    replayed: replayed.headers.get("Idempotent-Replayed"),
    event,
  };
}
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><body>shop</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin() -> Iterator[str]:
    """A real server on this machine for the page (Chromium's local network
    access rules judge a page by the address it really came from)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


async def test_a_page_on_another_origin_logs_in_reads_headers_and_gets_its_order(
    browser: Browser,
    other_origin: str,
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    origin = other_origin
    url = await fresh_database_url("sqlite")
    server = live_server(
        url, env={"CORS_ORIGINS": origin, "RATE_LIMIT_REGISTER": "1/minute"}
    )
    async with LiveData(url) as data:
        product = await data.product(stock=5)
    page = await browser.new_page()
    await page.goto(f"{origin}/")
    result: dict[str, Any] = await page.evaluate(
        SCRIPT,
        {
            "api": server.base_url,
            "ws": server.ws_url,
            "productId": product.id,
            "name": f"b{uuid.uuid4().hex[:10]}",
        },
    )
    assert result["register"] == 201
    assert result["requestId"]
    assert result["again"] == 429
    assert int(result["retryAfter"]) > 0
    assert result["wwwAuthenticate"].startswith("Bearer")
    assert result["etag"].startswith('"')
    assert result["placed"] == 201
    assert result["replayed"] == "true"
    assert result["event"]["type"] == "order.created"
    assert result["event"]["order_id"] == result["placedId"]


# Runs in the page: an EventSource authenticated by `?access_token=` receives
# the order the page places; a second one resuming from before that event
# (`?since=`) gets it replayed.
SSE_SCRIPT = """
async ({api, token, productId}) => {
  const stream = api + "/api/v1/orders/events/stream?access_token=" + token;
  const source = new EventSource(stream);
  await new Promise((resolve, reject) => {
    source.onopen = resolve;
    source.onerror = () => reject(new Error("EventSource failed to open"));
  });
  const received = new Promise((resolve) => {
    source.addEventListener("order.created", (message) =>
      resolve({id: message.lastEventId, data: JSON.parse(message.data)}));
  });
  const placed = await fetch(api + "/api/v1/orders", {
    method: "POST",
    headers: {"Content-Type": "application/json", Authorization: "Bearer " + token},
    body: JSON.stringify({items: [{product_id: productId, quantity: 1}]}),
  });
  const event = await received;
  source.close();
  const resumed = new EventSource(stream + "&since=" + (Number(event.id) - 1));
  const replayed = await new Promise((resolve, reject) => {
    resumed.addEventListener("order.created", (message) =>
      resolve({id: message.lastEventId, data: JSON.parse(message.data)}));
    resumed.onerror = () => reject(new Error("resumed EventSource failed"));
  });
  resumed.close();
  return {placed: placed.status, placedId: (await placed.json()).id, event, replayed};
}
"""


async def test_a_browser_gets_events_by_subprotocol_websocket_and_eventsource(
    browser: Browser,
    other_origin: str,
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url, env={"CORS_ORIGINS": other_origin})
    async with LiveData(url) as data:
        user = await data.user()
        product = await data.product(stock=5)
    token = user.headers["Authorization"].removeprefix("Bearer ")
    page = await browser.new_page()
    # A page of its own: the API's responses carry `default-src 'none'`, which
    # forbids a page served from them to open any connection.
    await page.goto(f"{other_origin}/")
    protocol = await page.evaluate(
        """async ({ws, token}) => {
          const socket = new WebSocket(ws + "/api/v1/orders/events", ["bearer", token]);
          await new Promise((resolve, reject) => {
            socket.onopen = resolve; socket.onerror = reject; });
          const protocol = socket.protocol;
          socket.close();
          return protocol;
        }""",
        {"ws": server.ws_url, "token": token},
    )
    assert protocol == "bearer"

    result: dict[str, Any] = await page.evaluate(
        SSE_SCRIPT, {"api": server.base_url, "token": token, "productId": product.id}
    )
    assert result["placed"] == 201
    event, replayed = result["event"], result["replayed"]
    assert event["data"]["type"] == "order.created"
    assert event["data"]["order_id"] == result["placedId"]
    assert event["id"] == str(event["data"]["id"])
    assert replayed == event
