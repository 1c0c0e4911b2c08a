"""TOTP (RFC 6238: SHA-1, 6 digits, 30 s) and single-use recovery codes.

Secrets are stored sealed (`backend.security.sealing`, purpose `totp-secret`)
with their user as the context, so a ciphertext copied to another row does not
open. Rotating SECRET_KEY therefore makes every stored TOTP secret
unreadable: those users log in with a recovery code and enrol again (see the
README's account section). Recovery codes carry 80 random bits, so a plain
SHA-256 is a sound way to store them; a slow hash would add nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp

from backend.security.sealing import Sealer

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
# A code of the step before or after the current one is accepted too: clocks
# drift and people type slowly (RFC 6238, section 5.2, suggests one step).
_DRIFT_STEPS = (0, -1, 1)
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_RECOVERY_LENGTH = 16  # 16 symbols of 5 bits: 80 bits


def sealer(secret_key: str) -> Sealer:
    return Sealer(secret_key, "totp-secret")


def sealing_context(user_id: int) -> str:
    """What a user's sealed TOTP secret is bound to."""
    return f"user:{user_id}"


def new_secret() -> str:
    """160 random bits in base32, the size RFC 4226 recommends for SHA-1."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://` URI an authenticator app reads (as a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def looks_like_totp(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (within the allowed drift) whose code is `code`, if any."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for offset in _DRIFT_STEPS:
        step = current + offset
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Codes shown once, as `XXXX-XXXX-XXXX-XXXX`."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(
            secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)
        )
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def hash_recovery_code(code: str) -> str:
    """The stored form; case, spaces and dashes as typed do not matter."""
    normal = "".join(ch for ch in code.upper() if ch not in " -")
    return hashlib.sha256(normal.encode()).hexdigest()
