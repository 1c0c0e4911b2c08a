"""Signatures verify with the Standard Webhooks library; secrets are sealed at rest."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from backend.security.sealing import UnreadableSecret
from backend.webhooks import signing
from backend.webhooks.secrets import new_secret, seal, unseal

BODY = b'{"id":7,"type":"order.created"}'


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_headers_verify_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    headers = signing.headers(
        [secret], msg_id="evt_7", timestamp=int(time.time()), body=BODY
    )
    assert headers["webhook-id"] == "evt_7"
    assert Webhook(secret).verify(BODY, headers) is not None


def test_both_secrets_sign_during_rotation() -> None:
    new, old = new_secret(), new_secret()
    headers = signing.headers(
        [new, old], msg_id="evt_7", timestamp=int(time.time()), body=BODY
    )
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_changed_body_does_not_verify() -> None:
    secret = new_secret()
    headers = signing.headers(
        [secret], msg_id="evt_7", timestamp=int(time.time()), body=BODY
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_sealed_secrets_open_with_the_same_key_only() -> None:
    secret = new_secret()
    sealed = seal("k" * 40, secret)
    assert secret not in sealed
    assert secret.removeprefix("whsec_") not in sealed
    assert unseal("k" * 40, sealed) == secret
    with pytest.raises(UnreadableSecret):
        unseal("x" * 40, sealed)
