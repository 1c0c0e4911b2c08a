"""Emailed account tokens: 256 random bits, kept as SHA-256, sealed for the mailer.

The database holds only a token's SHA-256 (`token_hash`), so a leaked
database or backup redeems nothing. The email that carries the token is a
job written in the same transaction, and a job's payload is a database row
too; so the payload carries the token *sealed* (`backend.security.sealing`,
purpose `account-token`) with its `token_hash` as the context: the sealed text
says nothing about the token without `SECRET_KEY`, and a wrong key (after a
rotation) or a payload whose hash was changed is detected, never mailed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from backend.security.sealing import Sealer

TOKEN_BYTES = 32  # 256 bits, like secrets.token_urlsafe(32)


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


def seal(secret_key: str, token: NewToken) -> str:
    return Sealer(secret_key, "account-token").seal(
        token.token, context=token.token_hash
    )


def unseal(secret_key: str, token_hash: str, sealed: str) -> str:
    """The token sealed for `token_hash`; `UnreadableSecret` if this key did not
    seal it for that hash (a `SECRET_KEY` rotation, a payload moved or altered)."""
    return Sealer(secret_key, "account-token").open(sealed, context=token_hash)
