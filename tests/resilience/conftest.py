"""Fixtures for the fault scenarios: a seeded PostgreSQL shop and a cuttable proxy.

`shop` makes a fresh, migrated PostgreSQL database and a seeding app bound to
it, so a test can create users, admins, tokens and products directly in the
database (the live server shares the JWT secret, so the tokens work there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.engine import make_url

from backend import extensions
from backend.app import create_app
from tests.conftest import make_settings
from tests.resilience.proxy import TcpProxy
from tests.support.factories import bearer_for, make_product, make_user

FreshDatabase = Callable[[str], Coroutine[Any, Any, str]]


def _routes() -> set[tuple[str, str]]:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }


ROUTES = _routes()


def has_route(method: str, path: str) -> bool:
    """Whether the app (as built now) serves `method path`: skip conditions use it."""
    return (method, path) in ROUTES


HAS_ORDERS = has_route("POST", "/api/v1/orders")
HAS_LOGIN = has_route("POST", "/api/v1/auth/login")
HAS_EVENTS_SOCKET = has_route("GET", "/api/v1/orders/events")
needs_orders = pytest.mark.skipif(
    not HAS_ORDERS, reason="POST /api/v1/orders is not implemented yet (issue 4)"
)


@dataclass
class Shop:
    """A fresh PostgreSQL database and a way to put data straight into it."""

    url: str
    app: Quart
    initial_stock: dict[int, int] = field(default_factory=dict)

    async def user(self, *, admin: bool = False, **kwargs: Any) -> dict[str, str]:
        """A new user (or admin); its bearer headers."""
        async with extensions.database(self.app).session() as session:
            user = await make_user(session, self.app, is_admin=admin, **kwargs)
        return await bearer_for(self.app, user)

    async def products(self, count: int, stock: int) -> list[int]:
        async with extensions.database(self.app).session() as session:
            made = [await make_product(session, stock=stock) for _ in range(count)]
        self.initial_stock.update({product.id: stock for product in made})
        return [product.id for product in made]


@pytest.fixture
async def shop(fresh_database_url: FreshDatabase) -> AsyncIterator[Shop]:
    url = await fresh_database_url("postgresql")
    # Fast hashing: seeding users is not what these tests measure.
    app = create_app(make_settings(url, password_hash_concurrency=4))
    async with app.test_app():
        yield Shop(url, app)


@pytest.fixture
def db_proxy(shop: Shop) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy to the shop's PostgreSQL, and the database URL that goes through it."""
    url = make_url(shop.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    yield proxy, proxied.render_as_string(hide_password=False)
    proxy.close()
