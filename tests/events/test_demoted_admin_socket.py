"""An event socket follows its user's current role, on a real database and bus."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from backend import extensions
from backend.app import create_app
from backend.events import subscription
from backend.models import User
from tests.api.test_order_events import (
    PATH,
    close_code,
    frame,
    place_order,
    subscribed,
    users,
)
from tests.conftest import BACKENDS, make_settings
from tests.support.factories import bearer_for


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_demoted_admin_stops_getting_other_users_events(
    backend: str,
    fresh_database_url: Callable[[str], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(subscription, "REVALIDATE_SECONDS", 0.2)
    app = create_app(make_settings(await fresh_database_url(backend)))
    async with app.test_app():
        client = app.test_client()
        alice, _, admin = await users(app)
        headers = await bearer_for(app, admin)
        async with client.websocket(PATH, headers=headers) as ws:
            await subscribed(app, 1)
            first = await place_order(app, alice)
            assert (await frame(ws))["order_id"] == first  # an admin sees all
            async with extensions.database(app).session() as session:
                user = await session.get(User, admin.id)
                assert user is not None
                user.is_admin = False
            # Closed at the next re-check: its visibility was an admin's.
            assert await close_code(ws) == 4401
        # The same token reconnects; the replay and the live events are its own.
        async with client.websocket(f"{PATH}?since=0", headers=headers) as ws:
            await subscribed(app, 1)
            await place_order(app, alice)
            own = await place_order(app, admin)
            assert (await frame(ws))["order_id"] == own
