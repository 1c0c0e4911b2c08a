"""Standard Webhooks headers: `webhook-id`, `webhook-timestamp`, `webhook-signature`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from backend.webhooks.secrets import signing_key


def message_id(event_id: int) -> str:
    """The same for every attempt and redelivery: receivers dedupe on it."""
    return f"evt_{event_id}"


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets: Iterable[str], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The request headers; one signature per secret, space-separated."""
    signatures = " ".join(
        signature(secret, msg_id, timestamp, body) for secret in secrets
    )
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }
