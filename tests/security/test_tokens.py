"""TokenService: RFC 8725 hygiene, and the two token types never interchange."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from backend.errors import NotAuthenticated
from backend.security.tokens import ACCESS_TYP, TokenService
from tests.conftest import make_settings

SETTINGS = make_settings("sqlite+aiosqlite://")
SECRET = SETTINGS.jwt_secret_key


@pytest.fixture
def tokens() -> TokenService:
    return TokenService(SETTINGS)


def access(tokens: TokenService) -> str:
    return tokens.issue_access(user_id=7, session_id="s-1", token_version=3)


def b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def payload(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_access_token_round_trips_with_string_subject(tokens: TokenService) -> None:
    token = access(tokens)
    claims = tokens.decode_access(token)
    assert (claims.user_id, claims.session_id, claims.token_version) == (7, "s-1", 3)
    raw = payload(token)
    assert raw["sub"] == "7"
    assert {"exp", "iat", "jti", "iss", "aud"} <= set(raw)
    assert jwt.get_unverified_header(token)["typ"] == ACCESS_TYP


def test_refresh_token_round_trips(tokens: TokenService) -> None:
    token = tokens.issue_refresh(
        user_id=7, session_id="s-1", jti="j-1", token_version=0
    )
    claims = tokens.decode_refresh(token)
    assert (claims.user_id, claims.session_id, claims.jti) == (7, "s-1", "j-1")


def test_refresh_is_not_access_and_access_is_not_refresh(tokens: TokenService) -> None:
    refresh = tokens.issue_refresh(user_id=7, session_id="s", jti="j", token_version=0)
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(refresh)
    with pytest.raises(NotAuthenticated):
        tokens.decode_refresh(access(tokens))


def test_same_audience_with_the_other_typ_header_is_refused(
    tokens: TokenService,
) -> None:
    forged = jwt.encode(payload(access(tokens)), SECRET, headers={"typ": "refresh+jwt"})
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(forged)


def test_alg_none_is_refused(tokens: TokenService) -> None:
    token = f"{b64({'alg': 'none', 'typ': ACCESS_TYP})}.{b64(payload(access(tokens)))}."
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


@pytest.mark.parametrize("algorithm", ["HS384"])
def test_other_algorithms_are_refused_even_with_the_right_key(
    tokens: TokenService, algorithm: str
) -> None:
    token = jwt.encode(
        payload(access(tokens)),
        SECRET,
        algorithm=algorithm,
        headers={"typ": ACCESS_TYP},
    )
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


def test_wrong_key_is_refused(tokens: TokenService) -> None:
    token = jwt.encode(payload(access(tokens)), "w" * 40, headers={"typ": ACCESS_TYP})
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


def test_tampered_payload_is_refused(tokens: TokenService) -> None:
    head, _body, signature = access(tokens).split(".")
    forged = f"{head}.{b64({**payload(access(tokens)), 'sub': '1'})}.{signature}"
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(forged)


def test_a_token_is_refused_from_the_second_it_expires(tokens: TokenService) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    claims = {**payload(access(tokens)), "exp": past}
    token = jwt.encode(claims, SECRET, headers={"typ": ACCESS_TYP})
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti", "iss", "aud"])
def test_every_required_claim_must_be_present(tokens: TokenService, claim: str) -> None:
    claims = payload(access(tokens))
    del claims[claim]
    token = jwt.encode(claims, SECRET, headers={"typ": ACCESS_TYP})
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


@pytest.mark.parametrize(("claim", "value"), [("sub", 7), ("iss", "other")])
def test_wrong_claim_values_are_refused(
    tokens: TokenService, claim: str, value: object
) -> None:
    claims = {**payload(access(tokens)), claim: value}
    token = jwt.encode(claims, SECRET, headers={"typ": ACCESS_TYP})
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


def test_garbage_is_refused(tokens: TokenService) -> None:
    for token in ("", "abc", "a.b.c"):
        with pytest.raises(NotAuthenticated):
            tokens.decode_access(token)


def test_a_remembered_token_is_refused_from_the_second_it_expires(
    tokens: TokenService,
) -> None:
    expires = int(time.time()) + 1
    claims = {**payload(access(tokens)), "exp": expires}
    token = jwt.encode(claims, SECRET, headers={"typ": ACCESS_TYP})
    first = tokens.decode_access(token)
    assert tokens.decode_access(token) == first  # remembered
    assert token in tokens._verified

    time.sleep(max(0.0, expires - time.time()) + 0.01)
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)
    assert token not in tokens._verified


def test_only_verified_tokens_are_remembered(tokens: TokenService) -> None:
    head, _body, signature = access(tokens).split(".")
    forged = f"{head}.{b64({**payload(access(tokens)), 'sub': '1'})}.{signature}"
    refresh = tokens.issue_refresh(user_id=7, session_id="s", jti="j", token_version=1)
    for refused in (forged, refresh, forged):
        with pytest.raises(NotAuthenticated):
            tokens.decode_access(refused)


def test_remembered_tokens_are_bounded_oldest_first(
    tokens: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backend.security.tokens.VERIFIED_CACHE_SIZE", 3)
    issued = [
        tokens.issue_access(user_id=n, session_id="s", token_version=1)
        for n in range(5)
    ]
    for token in issued:
        tokens.decode_access(token)
    assert list(tokens._verified) == issued[2:]
    assert [tokens.decode_access(token).user_id for token in issued] == list(range(5))
