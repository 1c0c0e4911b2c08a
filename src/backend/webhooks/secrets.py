"""Signing secrets: made here, stored encrypted, decrypted only to sign.

A secret must be usable for HMAC, so unlike tokens it cannot be stored
hashed. It is encrypted with AES-256-GCM under a key derived from
`SECRET_KEY` by HKDF (its own `info`, so the key is used for nothing else);
a database dump without the application's settings does not reveal it.
Rotating `SECRET_KEY` makes stored secrets unreadable: rotate every
endpoint's secret afterwards.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
SECRET_BYTES = 32
_NONCE_BYTES = 12
_INFO = b"backend webhook signing secrets v1"
_AAD = b"webhook_endpoint.secret"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (what Standard Webhooks expects)."""
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_`."""
    return base64.b64decode(secret.removeprefix(PREFIX))


class SecretBox:
    """Encrypts and decrypts secrets under the key derived from `SECRET_KEY`."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), _AAD)
        return base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode()
