"""The generated Python client (clients/python): current, and usable end to end."""

from __future__ import annotations

import filecmp
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from shop_client import AuthenticatedClient, Client
from shop_client.api.auth import auth_login, auth_register
from shop_client.api.orders import orders_cancel, orders_create, orders_get
from shop_client.api.products import products_list
from shop_client.models import (
    AuthLoginLoginIn,
    AuthRegisterUserCreate,
    OrderLine,
    OrdersCancelOrderCancel,
    OrdersCreateOrderCreate,
    Problem,
)

from tests.support.live_data import LiveData
from tests.support.server import PROJECT_ROOT, LiveServer

COMMITTED = PROJECT_ROOT / "clients" / "python"


def _differences(left: Path, right: Path) -> list[str]:
    ignore = [*filecmp.DEFAULT_IGNORES, "*.egg-info", "shop_client.egg-info"]
    comparison = filecmp.dircmp(left, right, ignore=ignore)
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"{prefix}{name}" for name in cmp.left_only + cmp.right_only)
        _, mismatch, errors = filecmp.cmpfiles(
            cmp.left, cmp.right, cmp.common_files, shallow=False
        )
        found.extend(f"{prefix}{name}" for name in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(comparison, "")
    return found


def test_the_committed_client_is_what_make_client_generates(tmp_path: Path) -> None:
    fresh = tmp_path / "python"
    subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "clients" / "generate.py"), str(fresh)],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    assert _differences(COMMITTED, fresh) == [], "stale: run `make client`"


PASSWORD = "Sturdy-Pass-42"


@pytest.mark.e2e
async def test_register_login_browse_order_cancel_through_the_client(
    fresh_database_url: Callable[[str], Awaitable[str]],
    live_server: Callable[..., LiveServer],
) -> None:
    url = await fresh_database_url("sqlite")
    server = live_server(url)
    async with LiveData(url) as data:
        await data.product(name="Client kettle", stock=3, price_cents=2500)
    name = f"c{uuid.uuid4().hex[:10]}"
    anonymous = Client(base_url=server.base_url, raise_on_unexpected_status=True)
    async with anonymous:
        token = await _register_and_log_in(anonymous, name)
    client = AuthenticatedClient(
        base_url=server.base_url, token=token, raise_on_unexpected_status=True
    )
    async with client:
        await _browse_order_cancel(client)


async def _register_and_log_in(anonymous: Client, name: str) -> str:

    registered = await auth_register.asyncio(
        client=anonymous,
        body=AuthRegisterUserCreate(
            username=name,
            email=f"{name}@example.com",
            password=PASSWORD,
            password_confirm=PASSWORD,
        ),
    )
    assert not isinstance(registered, Problem | None)
    assert registered.user.username == name

    logged_in = await auth_login.asyncio(
        client=anonymous, body=AuthLoginLoginIn(username=name, password=PASSWORD)
    )
    assert not isinstance(logged_in, Problem | None)
    return logged_in.access_token


async def _browse_order_cancel(client: AuthenticatedClient) -> None:

    page = await products_list.asyncio(client=client, q="Client kettle")
    assert not isinstance(page, Problem | None)
    (kettle,) = page.items
    assert kettle.price_cents == 2500

    placed = await orders_create.asyncio(
        client=client,
        body=OrdersCreateOrderCreate(
            items=[OrderLine(product_id=kettle.id, quantity=2)]
        ),
        idempotency_key=uuid.uuid4().hex,
    )
    assert not isinstance(placed, Problem | None)
    assert placed.status == "pending"
    assert placed.total_cents == 5000

    cancelled = await orders_cancel.asyncio(
        order_id=placed.id, client=client, body=OrdersCancelOrderCancel()
    )
    assert not isinstance(cancelled, Problem | None)
    assert cancelled.status == "cancelled"

    # Errors come back typed, as problem documents.
    missing = await orders_get.asyncio(order_id=2_000_000_000, client=client)
    assert isinstance(missing, Problem)
    assert (missing.status, missing.code) == (404, "not_found")
