"""Signing secrets: made here, stored encrypted, decrypted only to sign.

A secret must be usable for HMAC, so unlike tokens it cannot be stored
hashed. It is sealed (`backend.security.sealing`, purpose `webhook-secret`,
a key used for nothing else); a database dump without the application's
settings does not reveal it. Rotating `SECRET_KEY` makes stored secrets
unreadable: rotate every endpoint's secret afterwards.
"""

from __future__ import annotations

import base64
import functools
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


@functools.lru_cache(maxsize=4)
def _sealer(secret_key: str) -> Sealer:
    """One per `SECRET_KEY`: every delivery opens a secret, and deriving the
    key costs more than opening it."""
    return Sealer(secret_key, "webhook-secret")


def seal(secret_key: str, secret: str) -> str:
    return _sealer(secret_key).seal(secret, context=_CONTEXT)


def unseal(secret_key: str, sealed: str) -> str:
    """The secret; `UnreadableSecret` if sealed under another `SECRET_KEY`."""
    return _sealer(secret_key).open(sealed, context=_CONTEXT)
