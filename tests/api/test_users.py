"""User routes: every row of the contract's Users table, each error included."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from backend import extensions
from backend.config import Settings
from backend.models import User
from tests.api.helpers import PASSWORD, login, new_account, problem, register
from tests.conftest import make_settings
from tests.support.factories import bearer_for, make_user

USERS = "/api/v1/users"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url, rate_limit_login="1000/minute", rate_limit_register="1000/minute"
    )


async def users(app: Quart, *flags: str, **kwargs: Any) -> list[User]:
    async with extensions.database(app).session() as session:
        return [
            await make_user(session, app, is_admin=flag == "admin", **kwargs)
            for flag in flags
        ]


async def reload(app: Quart, user_id: int) -> User:
    async with extensions.database(app).session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def test_create_user_returns_the_user_without_tokens(client: Client) -> None:
    response = await client.post(USERS, json=new_account(email="New@Example.com"))
    body = await response.get_json()
    assert response.status_code == 201
    assert "access_token" not in body
    assert "password_hash" not in body
    assert body["email"] == "new@example.com"
    assert (await login(client, body["username"])).status_code == 200


async def test_create_user_conflicts_and_validates(client: Client) -> None:
    taken = (await register(client))["user"]
    again = await client.post(
        USERS, json=new_account(username=taken["username"].upper())
    )
    await problem(again, 409, "username_taken")
    email = await client.post(USERS, json=new_account(email=taken["email"].upper()))
    await problem(email, 409, "email_taken")
    weak = await client.post(
        USERS, json=new_account(password="weakpass", password_confirm="weakpass")
    )
    await problem(weak, 422, "validation_error")


async def test_list_users_is_admin_only(app: Quart, client: Client) -> None:
    admin, plain = await users(app, "admin", "user")
    await problem(await client.get(USERS), 401, "unauthorized")
    denied = await client.get(USERS, headers=await bearer_for(app, plain))
    await problem(denied, 403, "forbidden")
    response = await client.get(USERS, headers=await bearer_for(app, admin))
    body = await response.get_json()
    assert response.status_code == 200
    assert set(body) == {"items", "total", "page", "per_page", "pages"}
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids)
    assert {admin.id, plain.id} <= set(ids)


async def test_list_users_filters_by_text_and_activity(
    app: Quart, client: Client
) -> None:
    async with extensions.database(app).session() as session:
        admin = await make_user(session, app, is_admin=True)
        zed = await make_user(session, app, username="Zed_Findme", email="z@ex.org")
        gone = await make_user(session, app, username="findme.2", is_active=False)
        await make_user(session, app, username="findxme")
    headers = await bearer_for(app, admin)

    async def ids(query: str) -> list[int]:
        response = await client.get(f"{USERS}?{query}", headers=headers)
        assert response.status_code == 200
        return [item["id"] for item in (await response.get_json())["items"]]

    assert await ids("q=FINDME") == [zed.id, gone.id]
    assert await ids("q=findme&is_active=true") == [zed.id]
    assert await ids("q=findme&is_active=false") == [gone.id]
    assert await ids("q=_findme") == [zed.id]  # `_` is literal, not a wildcard
    assert await ids("q=z@ex.org") == [zed.id]
    assert await ids("q=%25") == []
    bad = await client.get(f"{USERS}?per_page=101", headers=headers)
    await problem(bad, 422, "validation_error")


async def test_get_user_is_you_or_an_admin(app: Quart, client: Client) -> None:
    admin, alice, bob = await users(app, "admin", "user", "user")
    alice_headers = await bearer_for(app, alice)
    own = await client.get(f"{USERS}/{alice.id}", headers=alice_headers)
    assert (await own.get_json())["username"] == alice.username
    other = await client.get(f"{USERS}/{bob.id}", headers=alice_headers)
    await problem(other, 403, "forbidden")
    missing = await client.get(f"{USERS}/999999", headers=alice_headers)
    await problem(missing, 403, "forbidden")
    admin_headers = await bearer_for(app, admin)
    seen = await client.get(f"{USERS}/{bob.id}", headers=admin_headers)
    assert (await seen.get_json())["id"] == bob.id
    unknown = await client.get(f"{USERS}/999999", headers=admin_headers)
    await problem(unknown, 404, "not_found")
    await problem(await client.get(f"{USERS}/{bob.id}"), 401, "unauthorized")


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_user_updates_own_allowed_fields(
    app: Quart, client: Client, method: str
) -> None:
    (alice,) = await users(app, "user")
    response = await client.open(
        f"{USERS}/{alice.id}",
        method=method,
        headers=await bearer_for(app, alice),
        json={
            "email": " New.Mail@Example.COM ",
            "first_name": " Alice ",
            "last_name": None,
        },
    )
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["email"] == "new.mail@example.com"
    assert body["first_name"] == "Alice"
    assert body["last_name"] is None
    assert body["username"] == alice.username


@pytest.mark.parametrize("field", ["is_admin", "is_active"])
async def test_mass_assignment_of_privileges_is_refused(
    app: Quart, client: Client, field: str
) -> None:
    (alice,) = await users(app, "user")
    response = await client.patch(
        f"{USERS}/{alice.id}",
        headers=await bearer_for(app, alice),
        json={"first_name": "Mallory", field: field == "is_admin"},
    )
    await problem(response, 403, "forbidden")
    after = await reload(app, alice.id)
    assert (after.is_admin, after.is_active, after.first_name) == (False, True, None)


@pytest.mark.parametrize(
    "body",
    [
        {"username": "renamed"},
        {"password": "New-Pass-123"},
        {"password_hash": "x"},
        {"token_version": 0},
        {"id": 5},
        {"email": "not-an-email"},
        {"email": None},
        {"first_name": "x" * 51},
    ],
)
async def test_update_rejects_unknown_and_invalid_fields(
    app: Quart, client: Client, body: dict[str, Any]
) -> None:
    (alice,) = await users(app, "user")
    response = await client.patch(
        f"{USERS}/{alice.id}", headers=await bearer_for(app, alice), json=body
    )
    await problem(response, 422, "validation_error")


async def test_update_of_another_user_is_403_and_changes_nothing(
    app: Quart, client: Client
) -> None:
    alice, bob = await users(app, "user", "user")
    response = await client.patch(
        f"{USERS}/{bob.id}",
        headers=await bearer_for(app, alice),
        json={"first_name": "Hacked"},
    )
    await problem(response, 403, "forbidden")
    assert (await reload(app, bob.id)).first_name is None


async def test_update_to_a_taken_email_is_409(app: Quart, client: Client) -> None:
    alice, bob = await users(app, "user", "user")
    response = await client.patch(
        f"{USERS}/{alice.id}",
        headers=await bearer_for(app, alice),
        json={"email": bob.email.upper()},
    )
    await problem(response, 409, "email_taken")


async def test_admin_may_grant_admin_and_deactivate(app: Quart, client: Client) -> None:
    admin, alice = await users(app, "admin", "user", password=PASSWORD)
    alice_headers = await bearer_for(app, alice)
    headers = await bearer_for(app, admin)
    granted = await client.put(
        f"{USERS}/{alice.id}", headers=headers, json={"is_admin": True}
    )
    assert (await granted.get_json())["is_admin"] is True
    off = await client.patch(
        f"{USERS}/{alice.id}", headers=headers, json={"is_active": False}
    )
    assert (await off.get_json())["is_active"] is False
    me = await client.get("/api/v1/auth/me", headers=alice_headers)
    await problem(me, 401, "unauthorized")
    await problem(await login(client, alice.username), 401, "invalid_credentials")
    missing = await client.patch(f"{USERS}/999999", headers=headers, json={})
    await problem(missing, 404, "not_found")


async def test_delete_self_is_a_soft_delete_that_revokes_at_once(
    app: Quart, client: Client
) -> None:
    tokens = await register(client)
    user_id = tokens["user"]["id"]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = await client.delete(f"{USERS}/{user_id}", headers=headers)
    assert response.status_code == 204
    assert (await reload(app, user_id)).is_active is False
    await problem(
        await client.get("/api/v1/auth/me", headers=headers), 401, "unauthorized"
    )
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(refresh, 401, "unauthorized")
    await problem(
        await login(client, tokens["user"]["username"]), 401, "invalid_credentials"
    )


async def test_delete_is_you_or_an_admin(app: Quart, client: Client) -> None:
    admin, alice, bob = await users(app, "admin", "user", "user")
    await problem(await client.delete(f"{USERS}/{bob.id}"), 401, "unauthorized")
    denied = await client.delete(
        f"{USERS}/{bob.id}", headers=await bearer_for(app, alice)
    )
    await problem(denied, 403, "forbidden")
    assert (await reload(app, bob.id)).is_active is True
    headers = await bearer_for(app, admin)
    assert (
        await client.delete(f"{USERS}/{bob.id}", headers=headers)
    ).status_code == 204
    assert (await reload(app, bob.id)).is_active is False
    missing = await client.delete(f"{USERS}/999999", headers=headers)
    await problem(missing, 404, "not_found")
