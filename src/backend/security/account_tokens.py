"""Emailed account tokens: 256 random bits, kept as SHA-256, sealed for the mailer.

The database holds only a token's SHA-256 (`token_hash`), so a leaked
database or backup redeems nothing. The email that carries the token is a
job written in the same transaction, and a job's payload is a database row
too; so the payload carries the token *sealed*: XORed with a one-time pad
`HMAC-SHA256(seal key, token_hash)`, where the seal key is derived from
`SECRET_KEY`. The pad is a PRF output under a unique input (hashes are unique
in the table), so the sealed bytes say nothing about the token without the
key; unsealing checks the result against `token_hash`, so a wrong key (after
a `SECRET_KEY` rotation) is detected, never mailed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32  # 256 bits, like secrets.token_urlsafe(32)
_SEAL_LABEL = b"backend/account-token-seal/v1"


@dataclass(frozen=True, slots=True)
class NewToken:
    token: str
    token_hash: str


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    """The hex SHA-256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> NewToken:
    token = _encode(secrets.token_bytes(TOKEN_BYTES))
    return NewToken(token=token, token_hash=hash_token(token))


def _pad(secret_key: str, token_hash: str) -> bytes:
    key = hmac.new(secret_key.encode(), _SEAL_LABEL, hashlib.sha256).digest()
    return hmac.new(key, token_hash.encode(), hashlib.sha256).digest()


def seal(secret_key: str, token: NewToken) -> str:
    raw = base64.urlsafe_b64decode(token.token + "=" * (-len(token.token) % 4))
    pad = _pad(secret_key, token.token_hash)
    return _encode(bytes(a ^ b for a, b in zip(raw, pad, strict=True)))


def unseal(secret_key: str, token_hash: str, sealed: str) -> str | None:
    """The token sealed for `token_hash`, or None if this key did not seal it."""
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        pad = _pad(secret_key, token_hash)
        token = _encode(bytes(a ^ b for a, b in zip(raw, pad, strict=True)))
    except ValueError:
        return None
    return token if hmac.compare_digest(hash_token(token), token_hash) else None
