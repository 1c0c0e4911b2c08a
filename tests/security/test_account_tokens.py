"""Account tokens: random, hashed, sealed so that only the right key unseals."""

from __future__ import annotations

import pytest

from backend.security.account_tokens import hash_token, new_token, seal, unseal
from backend.security.sealing import UnreadableSecret

KEY = "k" * 40


def test_tokens_are_256_random_bits_stored_as_sha256() -> None:
    tokens = [new_token() for _ in range(50)]
    assert len({t.token for t in tokens}) == 50
    assert all(len(t.token) == 43 for t in tokens)  # 32 bytes, URL-safe base64
    assert all(t.token_hash == hash_token(t.token) for t in tokens)
    assert all(len(t.token_hash) == 64 and t.token not in t.token_hash for t in tokens)


def test_a_sealed_token_opens_only_with_its_key_and_hash() -> None:
    token, other = new_token(), new_token()
    sealed = seal(KEY, token)
    assert token.token not in sealed
    assert unseal(KEY, token.token_hash, sealed) == token.token
    for key, token_hash, text in [
        (KEY + "rotated", token.token_hash, sealed),
        (KEY, other.token_hash, sealed),  # a payload's hash swapped
        (KEY, token.token_hash, "garbage"),
    ]:
        with pytest.raises(UnreadableSecret):
            unseal(key, token_hash, text)
    # A fresh nonce each time: one token never seals alike twice.
    assert seal(KEY, token) != sealed
