"""Signing secrets: made here, stored encrypted, decrypted only to sign.

A secret must be usable for HMAC, so unlike tokens it cannot be stored
hashed. It is sealed (`backend.security.sealing`, purpose `webhook-secret`,
a key used for nothing else); a database dump without the application's
settings does not reveal it. Rotating `SECRET_KEY` makes stored secrets
unreadable: rotate every endpoint's secret afterwards.
"""

from __future__ import annotations

import base64
import os

from backend.security.sealing import Sealer

PREFIX = "whsec_"
SECRET_BYTES = 32
# Sealed before the endpoint has an id (and moved to `previous_secret` on
# rotation), so the context names the column's role, not the row.
_CONTEXT = "webhook_endpoint.secret"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (what Standard Webhooks expects)."""
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_`."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def seal(secret_key: str, secret: str) -> str:
    return Sealer(secret_key, "webhook-secret").seal(secret, context=_CONTEXT)


def unseal(secret_key: str, sealed: str) -> str:
    """The secret; `UnreadableSecret` if sealed under another `SECRET_KEY`."""
    return Sealer(secret_key, "webhook-secret").open(sealed, context=_CONTEXT)
