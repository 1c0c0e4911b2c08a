"""Sealing: one key per purpose, bound to a context, any tampering refused."""

from __future__ import annotations

import base64

import pytest

from backend.security.sealing import Sealer, UnreadableSecret

KEY = "k" * 40
SECRET = "JBSWY3DPEHPK3PXP"


def test_a_sealed_text_opens_with_its_key_purpose_and_context_only() -> None:
    sealed = Sealer(KEY, "totp-secret").seal(SECRET, context="user:1")
    assert sealed.startswith("v1.")
    assert SECRET not in sealed
    assert Sealer(KEY, "totp-secret").open(sealed, context="user:1") == SECRET
    for sealer, context in [
        (Sealer(KEY + "rotated", "totp-secret"), "user:1"),
        (Sealer(KEY, "account-token"), "user:1"),  # another purpose's key
        (Sealer(KEY, "totp-secret"), "user:2"),
    ]:
        with pytest.raises(UnreadableSecret):
            sealer.open(sealed, context=context)


def test_each_seal_has_a_fresh_nonce() -> None:
    sealer = Sealer(KEY, "webhook-secret")
    assert sealer.seal(SECRET, context="c") != sealer.seal(SECRET, context="c")


def test_altered_or_malformed_texts_are_unreadable() -> None:
    sealer = Sealer(KEY, "totp-secret")
    sealed = sealer.seal(SECRET, context="user:1")
    raw = bytearray(base64.urlsafe_b64decode(sealed.removeprefix("v1.") + "=="))
    raw[-1] ^= 1
    flipped = "v1." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for text in [
        flipped,
        sealed.removeprefix("v1."),  # no version
        "v2." + sealed.removeprefix("v1."),  # a version this code cannot read
        "v1.",
        "v1.AAAA",  # shorter than a nonce and a tag
        "v1.not base64!",
        "v1.é",
    ]:
        with pytest.raises(UnreadableSecret):
            sealer.open(text, context="user:1")
