"""TOTP second factor through the API, with codes computed like an authenticator app."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import func, select

from backend import extensions
from backend.models import RecoveryCode, TotpCredential
from backend.security import totp
from backend.security.sealing import UnreadableSecret
from tests.api.helpers import PASSWORD, login, problem, register
from tests.support.factories import bearer

SETUP = "/api/v1/auth/mfa/totp/setup"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"
TOTP = "/api/v1/auth/mfa/totp"


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator shows `steps_ahead` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def enrolled(client: Client) -> tuple[dict[str, Any], str, list[str]]:
    """A registered user with TOTP confirmed: (register body, secret, codes)."""
    account = await register(client)
    headers = bearer(account["access_token"])
    setup = await client.post(SETUP, json={"password": PASSWORD}, headers=headers)
    assert setup.status_code == 200, await setup.get_json()
    secret = (await setup.get_json())["secret"]
    used = code_at(secret)
    confirm = await client.post(CONFIRM, json={"code": used}, headers=headers)
    assert confirm.status_code == 200, await confirm.get_json()
    account["confirmed_with"] = used
    return account, secret, (await confirm.get_json())["recovery_codes"]


async def login_otp(client: Client, username: str, otp: str | None) -> Any:
    body: dict[str, Any] = {"username": username, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return await client.post("/api/v1/auth/login", json=body)


async def test_setup_gives_an_rfc6238_secret_and_uri(client: Client) -> None:
    account = await register(client)
    response = await client.post(
        SETUP, json={"password": PASSWORD}, headers=bearer(account["access_token"])
    )
    body = await response.get_json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    parsed = pyotp.parse_uri(body["otpauth_uri"])
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.digits, parsed.interval) == (body["secret"], 6, 30)
    assert parsed.issuer == "Shop"
    assert parsed.name == account["user"]["username"]
    me = await client.get("/api/v1/auth/me", headers=bearer(account["access_token"]))
    assert (await me.get_json())["mfa_enabled"] is False  # not until confirmed


async def test_setup_with_a_wrong_password_is_403(client: Client) -> None:
    account = await register(client)
    response = await client.post(
        SETUP,
        json={"password": "Wrong-Pass-1"},
        headers=bearer(account["access_token"]),
    )
    await problem(response, 403, "invalid_credentials")


async def test_confirm_enables_and_returns_ten_recovery_codes(
    app: Quart, client: Client
) -> None:
    account, secret, codes = await enrolled(client)
    assert len(set(codes)) == len(codes) == 10
    me = await client.get("/api/v1/auth/me", headers=bearer(account["access_token"]))
    assert (await me.get_json())["mfa_enabled"] is True
    async with extensions.database(app).session() as session:
        stored = await session.scalar(select(TotpCredential))
        hashes = set(await session.scalars(select(RecoveryCode.code_hash)))
    assert stored is not None
    assert secret not in stored.secret_ciphertext
    assert not set(codes) & hashes  # stored hashed, not as shown
    assert len(hashes) == 10


async def test_confirm_refuses_a_wrong_code_and_nothing_to_confirm(
    client: Client,
) -> None:
    account = await register(client)
    headers = bearer(account["access_token"])
    nothing = await client.post(CONFIRM, json={"code": "123456"}, headers=headers)
    await problem(nothing, 409, "mfa_setup_required")
    setup = await client.post(SETUP, json={"password": PASSWORD}, headers=headers)
    secret = (await setup.get_json())["secret"]
    wrong = str((int(code_at(secret)) + 1) % 1_000_000).zfill(6)
    await problem(
        await client.post(CONFIRM, json={"code": wrong}, headers=headers),
        400,
        "invalid_code",
    )


async def test_a_new_setup_replaces_an_unconfirmed_one(client: Client) -> None:
    account = await register(client)
    headers = bearer(account["access_token"])
    first = await client.post(SETUP, json={"password": PASSWORD}, headers=headers)
    second = await client.post(SETUP, json={"password": PASSWORD}, headers=headers)
    old, new = (await first.get_json())["secret"], (await second.get_json())["secret"]
    assert old != new
    stale = await client.post(CONFIRM, json={"code": code_at(old)}, headers=headers)
    await problem(stale, 400, "invalid_code")
    fresh = await client.post(CONFIRM, json={"code": code_at(new)}, headers=headers)
    assert fresh.status_code == 200


async def test_setup_and_confirm_are_409_once_enabled(client: Client) -> None:
    account, secret, _ = await enrolled(client)
    headers = bearer(account["access_token"])
    again = await client.post(SETUP, json={"password": PASSWORD}, headers=headers)
    await problem(again, 409, "mfa_already_enabled")
    confirm = await client.post(
        CONFIRM, json={"code": code_at(secret, 1)}, headers=headers
    )
    await problem(confirm, 409, "mfa_already_enabled")


async def test_login_needs_the_code_only_after_the_right_password(
    client: Client,
) -> None:
    account, secret, _ = await enrolled(client)
    name = account["user"]["username"]
    await problem(await login_otp(client, name, None), 401, "otp_required")
    wrong_password = await login(client, name, "Wrong-Pass-1")
    await problem(wrong_password, 401, "invalid_credentials")
    # The confirmation spent the current step's code; the next step's is fresh.
    ok = await login_otp(client, name, code_at(secret, 1))
    assert ok.status_code == 200, await ok.get_json()
    assert (await ok.get_json())["user"]["mfa_enabled"] is True


async def test_a_wrong_code_is_invalid_credentials(client: Client) -> None:
    account, secret, _ = await enrolled(client)
    wrong = str((int(code_at(secret, 1)) + 1) % 1_000_000).zfill(6)
    response = await login_otp(client, account["user"]["username"], wrong)
    await problem(response, 401, "invalid_credentials")


async def test_a_totp_code_is_refused_for_the_rest_of_its_window(
    client: Client,
) -> None:
    account, secret, _ = await enrolled(client)
    name = account["user"]["username"]
    # The code used to confirm cannot log in.
    confirmed_code = await login_otp(client, name, account["confirmed_with"])
    await problem(confirmed_code, 401, "invalid_credentials")
    code = code_at(secret, 1)
    assert (await login_otp(client, name, code)).status_code == 200
    await problem(await login_otp(client, name, code), 401, "invalid_credentials")


async def test_each_recovery_code_works_once(client: Client) -> None:
    account, _, codes = await enrolled(client)
    name = account["user"]["username"]
    first = await login_otp(client, name, codes[0])
    assert first.status_code == 200
    await problem(await login_otp(client, name, codes[0]), 401, "invalid_credentials")
    # Case and dashes as typed do not matter.
    typed = codes[1].replace("-", "").lower()
    assert (await login_otp(client, name, typed)).status_code == 200


async def test_disable_with_password_and_code(app: Quart, client: Client) -> None:
    account, secret, codes = await enrolled(client)
    headers = bearer(account["access_token"])
    wrong_password = await client.delete(
        TOTP,
        json={"password": "Wrong-Pass-1", "code": code_at(secret, 1)},
        headers=headers,
    )
    await problem(wrong_password, 403, "invalid_credentials")
    wrong_code = await client.delete(
        TOTP,
        json={"password": PASSWORD, "code": "AAAA-BBBB-CCCC-DDDD"},
        headers=headers,
    )
    await problem(wrong_code, 400, "invalid_code")
    done = await client.delete(
        TOTP,
        json={"password": PASSWORD, "code": codes[3]},
        headers=headers,
    )
    assert done.status_code == 204
    async with extensions.database(app).session() as session:
        left = await session.scalar(select(func.count()).select_from(RecoveryCode))
        credential = await session.scalar(select(TotpCredential))
    assert (left, credential) == (0, None)
    plain = await login_otp(client, account["user"]["username"], None)
    assert plain.status_code == 200
    assert (await plain.get_json())["user"]["mfa_enabled"] is False
    again = await client.delete(
        TOTP,
        json={"password": PASSWORD, "code": codes[4]},
        headers=headers,
    )
    await problem(again, 409, "mfa_not_enabled")


def test_secrets_are_bound_to_the_key_and_the_user() -> None:
    box = totp.sealer("k" * 40)
    sealed = box.seal("JBSWY3DPEHPK3PXP", context=totp.sealing_context(1))
    assert box.open(sealed, context=totp.sealing_context(1)) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(UnreadableSecret):
        box.open(sealed, context=totp.sealing_context(2))
    with pytest.raises(UnreadableSecret):  # SECRET_KEY rotated
        totp.sealer("r" * 40).open(sealed, context=totp.sealing_context(1))


async def test_after_a_key_rotation_recovery_codes_still_work(
    app: Quart, client: Client
) -> None:
    account, secret, codes = await enrolled(client)
    app.extensions["secret_box"] = totp.sealer("rotated" * 8)
    name = account["user"]["username"]
    await problem(
        await login_otp(client, name, code_at(secret, 1)), 401, "invalid_credentials"
    )
    assert (await login_otp(client, name, codes[0])).status_code == 200
