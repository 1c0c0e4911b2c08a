"""Sealing: secrets kept at rest under a key derived from SECRET_KEY.

The one way this code base encrypts something it must read back (a secret
that cannot be stored hashed because it is used later). `Sealer(secret_key,
purpose)` derives its own AES-256 key per purpose with HKDF-SHA256 (the
purpose is the HKDF `info`), so no two uses share a key. Each seal is
AES-256-GCM with a fresh 96-bit random nonce and the caller's *context* as
associated data: the context names where the ciphertext belongs (a user, a
token hash), so a ciphertext copied elsewhere does not open. The text form is
`v1.` + URL-safe base64 (no padding) of nonce + ciphertext + tag; the prefix
names the format, so a later one can be told apart. A wrong key, a wrong
context, a tampered or malformed text all raise the one `UnreadableSecret`.

Rotating SECRET_KEY makes everything sealed before unreadable, by design (the
old key is not kept). What that means, per purpose:

- `totp-secret` (context: the user): stored TOTP secrets no longer open, so
  those users log in with a recovery code (stored hashed, unaffected) and
  enrol again; a TOTP code alone is refused, never accepted.
- `webhook-secret` (context: fixed): endpoints' signing secrets no longer
  open and deliveries fail with a message saying so; rotate each endpoint's
  secret (`POST .../rotate-secret`), then retry the dead deliveries.
- `account-token` (context: the token's hash): queued password-reset and
  verification emails fail safely (the job fails, nothing is mailed); the
  user asks for a new email.
"""

from __future__ import annotations

import base64
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Every use, named here once: a new one is a new purpose (its own key).
Purpose = Literal["totp-secret", "webhook-secret", "account-token"]

_PREFIX = "v1."
_NONCE_BYTES = 12
_TAG_BYTES = 16


class UnreadableSecret(Exception):
    """Sealed under another SECRET_KEY or context, altered, or not a sealed text."""


class Sealer:
    """Seals and opens text for one purpose under a key derived from `secret_key`."""

    def __init__(self, secret_key: str, purpose: Purpose) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=f"backend/sealing/{purpose}/v1".encode(),
        ).derive(secret_key.encode())
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def open(self, text: str, *, context: str) -> str:
        """The plaintext sealed for `context`; `UnreadableSecret` otherwise."""
        if not text.startswith(_PREFIX):
            raise UnreadableSecret
        body = text.removeprefix(_PREFIX)
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:  # binascii.Error, or not ASCII
            raise UnreadableSecret from None
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise UnreadableSecret
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            plaintext = self._aead.decrypt(nonce, sealed, context.encode())
        except InvalidTag:
            raise UnreadableSecret from None
        return plaintext.decode()
