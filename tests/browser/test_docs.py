"""/docs renders its operation list in a real browser, with no internet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Request, Route

from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e


async def test_docs_render_the_operations_with_nothing_fetched_from_outside(
    browser: Browser,
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(await fresh_database_url("sqlite"))
    page = await browser.new_page()
    hosts: list[str] = []
    errors: list[str] = []

    async def only_this_machine(route: Route, request: Request) -> None:
        host = urlsplit(request.url).hostname or request.url  # data: URLs too
        hosts.append(host)
        if host == "127.0.0.1":
            await route.continue_()
        else:
            await route.abort()  # as it would be with no internet

    await page.route("**/*", only_this_machine)
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{server.base_url}/docs")
    operations = page.locator(".opblock-summary-operation-id, .opblock-summary-path")
    await operations.first.wait_for(timeout=20_000)
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/orders" in path for path in paths)
    assert len(paths) >= 20
    assert await page.evaluate("document.doctype && document.doctype.name") == "html"
    assert set(hosts) == {"127.0.0.1"}
    assert errors == []
