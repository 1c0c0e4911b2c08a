"""JWT access and refresh tokens (PyJWT, following RFC 8725).

The two token types differ in their `typ` header and their audience, and each
decoder demands its own: neither is ever accepted in place of the other.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from backend.config import Settings
from backend.errors import NotAuthenticated

ACCESS_TYP = "at+jwt"
REFRESH_TYP = "refresh+jwt"
_REQUIRED = ["exp", "iat", "sub", "jti", "iss", "aud"]
# Access tokens already verified by this process, remembered until they expire.
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str
    token_version: int
    jti: str


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: int
    session_id: str
    jti: str
    token_version: int
    expires_at: datetime


class TokenService:
    """Issues and verifies tokens with one pinned algorithm and key."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.jwt_secret_key
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._leeway = settings.jwt_leeway
        self.access_ttl = settings.access_token_ttl
        self.refresh_ttl = settings.refresh_token_ttl
        self._access_audience = f"{settings.jwt_issuer}:access"
        self._refresh_audience = f"{settings.jwt_issuer}:refresh"
        # token -> (claims, expiry in epoch seconds, leeway included).
        self._verified: dict[str, tuple[AccessClaims, float]] = {}

    def issue_access(self, *, user_id: int, session_id: str, token_version: int) -> str:
        claims = {"sid": session_id, "ver": token_version}
        return self._encode(
            user_id, self._access_audience, ACCESS_TYP, self.access_ttl, claims
        )

    def issue_refresh(
        self, *, user_id: int, session_id: str, jti: str, token_version: int
    ) -> str:
        # The version is checked at refresh too: a bump ends the whole session.
        claims = {"sid": session_id, "ver": token_version}
        return self._encode(
            user_id,
            self._refresh_audience,
            REFRESH_TYP,
            self.refresh_ttl,
            claims,
            jti=jti,
        )

    def decode_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token; 401 otherwise.

        A client sends the same token on every request until it expires, so
        each verified token is remembered (bounded, oldest first out) and its
        next use costs a dict look-up and a clock read instead of the
        signature check and the JSON parse. Only the signature and claims are
        remembered: revocation is checked by the caller on every request.
        """
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if time.time() < expires:
                return claims
            del self._verified[token]
        payload = self._decode(token, self._access_audience, ACCESS_TYP)
        try:
            claims = AccessClaims(
                user_id=int(payload["sub"]),
                session_id=str(payload["sid"]),
                token_version=int(payload["ver"]),
                jti=str(payload["jti"]),
            )
            expires = float(payload["exp"]) + self._leeway
        except (KeyError, TypeError, ValueError):
            raise NotAuthenticated("The token is invalid.") from None
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (claims, expires)
        return claims

    def decode_refresh(self, token: str) -> RefreshClaims:
        payload = self._decode(token, self._refresh_audience, REFRESH_TYP)
        try:
            return RefreshClaims(
                user_id=int(payload["sub"]),
                session_id=str(payload["sid"]),
                jti=str(payload["jti"]),
                token_version=int(payload["ver"]),
                expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise NotAuthenticated("The token is invalid.") from None

    def _encode(
        self,
        user_id: int,
        audience: str,
        typ: str,
        ttl: int,
        extra: dict[str, Any],
        *,
        jti: str | None = None,
    ) -> str:
        now = datetime.now(UTC)
        payload = {
            "sub": str(user_id),
            "iss": self._issuer,
            "aud": audience,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": jti or str(uuid.uuid4()),
            **extra,
        }
        return jwt.encode(
            payload, self._key, algorithm=self._algorithm, headers={"typ": typ}
        )

    def _decode(self, token: str, audience: str, typ: str) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED},
            )
            header_typ = jwt.get_unverified_header(token).get("typ")
        except jwt.PyJWTError:
            raise NotAuthenticated("The token is invalid or expired.") from None
        if header_typ != typ or not isinstance(payload.get("sub"), str):
            raise NotAuthenticated("The token is invalid.")
        return payload
