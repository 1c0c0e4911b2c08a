"""Auth routes: every row of the contract's Auth table, each error included."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import select

from backend import extensions
from backend.config import Settings
from backend.models import Job
from tests.api.helpers import (
    PASSWORD,
    login,
    new_account,
    problem,
    register,
)
from tests.conftest import make_settings
from tests.support.factories import bearer, make_user

USER_FIELDS = {
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_admin",
    "created_at",
    "updated_at",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Roomy limits: these tests are about auth; rate limits have their own.
    return make_settings(
        database_url, rate_limit_login="1000/minute", rate_limit_register="1000/minute"
    )


async def me(client: Client, token: str) -> Any:
    return await client.get("/api/v1/auth/me", headers=bearer(token))


async def test_register_returns_token_pair_user_and_no_store(client: Client) -> None:
    account = new_account(email="Mixed.Case@Example.COM", first_name="Ada")
    response = await client.post("/api/v1/auth/register", json=account)
    body = await response.get_json()
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"]
    assert body["refresh_token"]
    assert set(body["user"]) == USER_FIELDS
    assert body["user"]["email"] == "mixed.case@example.com"
    assert body["user"]["first_name"] == "Ada"
    assert body["user"]["last_name"] is None
    assert (body["user"]["is_active"], body["user"]["is_admin"]) == (True, False)
    assert (await me(client, body["access_token"])).status_code == 200


async def test_register_ignores_nothing_it_should_not_accept(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/register", json=new_account(is_admin=True)
    )
    body = await problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "is_admin"]


@pytest.mark.parametrize(
    ("field", "code"), [("username", "username_taken"), ("email", "email_taken")]
)
async def test_register_conflicts_are_case_insensitive(
    client: Client, field: str, code: str
) -> None:
    first = await register(client)
    taken = first["user"][field].upper()
    response = await client.post(
        "/api/v1/auth/register", json=new_account(**{field: taken})
    )
    await problem(response, 409, code)


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "x" * 31}, "username"),
        ({"username": "bad name"}, "username"),
        ({"username": "émile"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short1A", "password_confirm": "short1A"}, "password"),
        ({"password": "alllower12", "password_confirm": "alllower12"}, "password"),
        ({"password": "ALLUPPER12", "password_confirm": "ALLUPPER12"}, "password"),
        ({"password": "NoDigitsHere", "password_confirm": "NoDigitsHere"}, "password"),
        ({"password": "Aa1" * 43, "password_confirm": "Aa1" * 43}, "password"),
        ({"password_confirm": "Different-Pass-1"}, "password_confirm"),
        ({"first_name": "x" * 51}, "first_name"),
        ({"last_name": "x" * 51}, "last_name"),
    ],
)
async def test_register_rejects_invalid_fields(
    client: Client, overrides: dict[str, str], loc: str
) -> None:
    response = await client.post("/api/v1/auth/register", json=new_account(**overrides))
    body = await problem(response, 422, "validation_error")
    assert ["body", loc] in [error["loc"] for error in body["errors"]]
    assert PASSWORD not in str(body)


async def test_register_without_body_is_422(client: Client) -> None:
    await problem(await client.post("/api/v1/auth/register"), 422, "validation_error")


async def test_register_accepts_the_password_length_bounds(client: Client) -> None:
    for password in ("Aa345678", "Aa1" + "x" * 125):
        await register(client, password=password, password_confirm=password)


async def test_passwords_are_not_stripped_but_names_are(client: Client) -> None:
    padded = "  Padded-Pass-7  "
    body = await register(
        client, username="  spaced.name  ", password=padded, password_confirm=padded
    )
    assert body["user"]["username"] == "spaced.name"
    await problem(
        await login(client, "spaced.name", padded.strip()), 401, "invalid_credentials"
    )
    assert (await login(client, "spaced.name", padded)).status_code == 200


async def test_register_queues_the_welcome_email_as_a_job(
    app: Quart, client: Client
) -> None:
    body = await register(client, email="welcome@example.com")
    async with extensions.database(app).session(readonly=True) as session:
        queued = (await session.scalars(select(Job))).all()
    assert [(job.kind, job.payload["to"]) for job in queued] == [
        ("send_email", "welcome@example.com")
    ]
    assert body["user"]["username"] in queued[0].payload["body"]


@pytest.mark.parametrize("typed", ["name", "NAME", "email", "EMAIL"])
async def test_login_by_username_or_email_any_case(client: Client, typed: str) -> None:
    user = (await register(client))["user"]
    name = user["email"] if typed.lower() == "email" else user["username"]
    response = await login(client, name.upper() if typed.isupper() else name)
    body = await response.get_json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert body["user"]["id"] == user["id"]
    assert body["token_type"] == "Bearer"
    assert (await me(client, body["access_token"])).status_code == 200


async def test_login_failures_all_look_the_same(app: Quart, client: Client) -> None:
    async with extensions.database(app).session() as session:
        active = await make_user(session, app, password=PASSWORD)
        inactive = await make_user(session, app, password=PASSWORD, is_active=False)
    answers = [
        await login(client, "nobody-here"),
        await login(client, active.username, "Wrong-Pass-1"),
        await login(client, inactive.username),
    ]
    bodies = [await problem(answer, 401, "invalid_credentials") for answer in answers]
    assert all(body == bodies[0] for body in bodies)


async def test_login_requires_both_fields(client: Client) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": "x"})
    body = await problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "password"]


async def test_a_nul_character_in_any_string_is_a_422_not_a_500(
    client: Client,
) -> None:
    # PostgreSQL cannot store U+0000 in text; both databases refuse it alike.
    response = await login(client, "ada\x00")
    body = await problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "username"]
    account = new_account(first_name="Ada\x00Lovelace")
    response = await client.post("/api/v1/auth/register", json=account)
    body = await problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "first_name"]
    await problem(await login(client, account["username"]), 401, "invalid_credentials")


async def test_refresh_rotates_and_uses_up_the_presented_token(
    client: Client,
) -> None:
    first = await register(client)
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    second = await response.get_json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["refresh_token"] != first["refresh_token"]
    assert (await me(client, second["access_token"])).status_code == 200
    third = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert third.status_code == 200


async def test_refresh_accepts_the_token_as_bearer_with_empty_body(
    client: Client,
) -> None:
    tokens = await register(client)
    response = await client.post(
        "/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])
    )
    assert response.status_code == 200
    assert (await response.get_json())["access_token"]


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(
    client: Client,
) -> None:
    account = await register(client)
    other = await (await login(client, account["user"]["username"])).get_json()
    rotated = await (
        await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": account["refresh_token"]}
        )
    ).get_json()
    reuse = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account["refresh_token"]}
    )
    await problem(reuse, 401, "unauthorized")
    newest = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    await problem(newest, 401, "unauthorized")
    await problem(await me(client, rotated["access_token"]), 401, "unauthorized")
    await problem(await me(client, account["access_token"]), 401, "unauthorized")
    # Another login of the same user is a different session: untouched.
    assert (await me(client, other["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "body", [None, {}, {"refresh_token": "not-a-jwt"}, {"refresh_token": ""}]
)
async def test_refresh_without_a_valid_token_is_401(
    client: Client, body: dict[str, str] | None
) -> None:
    # None: no body at all (an empty body reads as `{}`).
    sent = {"data": b""} if body is None else {"json": body}
    response = await client.post("/api/v1/auth/refresh", **sent)
    await problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/api/v1/auth/refresh", "/api/v1/auth/logout"])
async def test_a_json_null_body_is_not_an_empty_body(client: Client, path: str) -> None:
    tokens = await register(client)
    response = await client.post(
        path,
        data=b"null",
        headers={**bearer(tokens["access_token"]), "Content-Type": "application/json"},
    )
    await problem(response, 422, "validation_error")


async def test_access_token_is_not_a_refresh_token_and_vice_versa(
    client: Client,
) -> None:
    tokens = await register(client)
    as_refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}
    )
    await problem(as_refresh, 401, "unauthorized")
    await problem(await me(client, tokens["refresh_token"]), 401, "unauthorized")


@pytest.mark.parametrize("body", [None, {}, "with-refresh"])
async def test_logout_ends_the_session(client: Client, body: Any) -> None:
    tokens = await register(client)
    payload = {"refresh_token": tokens["refresh_token"]} if body else body
    sent = {"data": b""} if payload is None else {"json": payload}
    response = await client.post(
        "/api/v1/auth/logout", headers=bearer(tokens["access_token"]), **sent
    )
    assert response.status_code == 204
    await problem(await me(client, tokens["access_token"]), 401, "unauthorized")
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(again, 401, "unauthorized")


async def test_logout_leaves_other_sessions_alone(client: Client) -> None:
    tokens = await register(client)
    other = await (await login(client, tokens["user"]["username"])).get_json()
    await client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert (await me(client, other["access_token"])).status_code == 200


async def test_logout_and_me_need_an_access_token(client: Client) -> None:
    for response in (
        await client.post("/api/v1/auth/logout"),
        await client.get("/api/v1/auth/me"),
        await client.get("/api/v1/auth/me", headers={"Authorization": "Basic x"}),
    ):
        await problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_me_returns_the_user_without_secrets(client: Client) -> None:
    tokens = await register(client)
    response = await me(client, tokens["access_token"])
    body = await response.get_json()
    assert set(body) == USER_FIELDS
    assert body == tokens["user"]


async def change_password(client: Client, token: str, **overrides: str) -> Any:
    body = {
        "current_password": PASSWORD,
        "new_password": "Brand-New-Pass-9",
        "new_password_confirm": "Brand-New-Pass-9",
        **overrides,
    }
    return await client.post(
        "/api/v1/auth/change-password", headers=bearer(token), json=body
    )


async def test_change_password_revokes_every_other_session(client: Client) -> None:
    tokens = await register(client)
    name = tokens["user"]["username"]
    other = await (await login(client, name)).get_json()
    response = await change_password(client, tokens["access_token"])
    assert response.status_code == 204
    assert (await me(client, tokens["access_token"])).status_code == 200
    await problem(await me(client, other["access_token"]), 401, "unauthorized")
    stale = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    await problem(stale, 401, "unauthorized")
    await problem(await login(client, name), 401, "invalid_credentials")
    assert (await login(client, name, "Brand-New-Pass-9")).status_code == 200


async def test_change_password_with_wrong_current_password_is_403(
    client: Client,
) -> None:
    tokens = await register(client)
    response = await change_password(
        client, tokens["access_token"], current_password="Not-My-Pass-1"
    )
    await problem(response, 403, "invalid_credentials")
    assert (await login(client, tokens["user"]["username"])).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"new_password_confirm": "Something-Else-1"},
        {"new_password": "weak", "new_password_confirm": "weak"},
        {"current_password": ""},
    ],
)
async def test_change_password_validates_the_new_password(
    client: Client, overrides: dict[str, str]
) -> None:
    tokens = await register(client)
    response = await change_password(client, tokens["access_token"], **overrides)
    await problem(response, 422, "validation_error")


async def test_change_password_needs_an_access_token(client: Client) -> None:
    response = await client.post("/api/v1/auth/change-password", json={})
    await problem(response, 401, "unauthorized")


def unsigned_token(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


@pytest.mark.parametrize("case", ["alg-none", "wrong-key", "tampered", "expired"])
async def test_forged_or_expired_access_tokens_are_refused(
    app: Quart, client: Client, case: str
) -> None:
    tokens = await register(client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(tokens["access_token"])
    if case == "alg-none":
        token = unsigned_token({"alg": "none", "typ": header["typ"]}, claims)
    elif case == "wrong-key":
        token = jwt.encode(claims, "x" * 48, algorithm="HS256", headers=header)
    elif case == "tampered":
        head, _payload, signature = tokens["access_token"].split(".")
        forged = {**claims, "sub": str(int(claims["sub"]) + 1)}
        other = jwt.encode(forged, "k" * 32, headers=header)
        token = ".".join((head, other.split(".")[1], signature))
    else:
        secret = extensions.settings(app).jwt_secret_key
        token = jwt.encode({**claims, "exp": 1000}, secret, headers=header)
    await problem(await me(client, token), 401, "unauthorized")


async def test_token_of_a_deactivated_user_stops_working(
    app: Quart, client: Client
) -> None:
    tokens = await register(client)
    async with extensions.database(app).session() as session:
        from backend.models import User

        user = await session.get(User, tokens["user"]["id"])
        assert user is not None
        user.is_active = False
    await problem(await me(client, tokens["access_token"]), 401, "unauthorized")
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(refreshed, 401, "unauthorized")
