"""Supabase-issued JWTs: verification for the API and development tokens for local use.

Verification is local: HS256 with SUPABASE_JWT_SECRET (Supabase's legacy shared secret), or an
asymmetric key from the project's JWKS (SUPABASE_JWKS_URL, Supabase's newer signing keys).
The accepted algorithms are fixed per key type, never taken from the token. Expiry and audience
are always checked; `exp` and `sub` must be present.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt

from backend.app.config import Settings

DEV_TOKEN_TTL_S = 12 * 3600
ASYMMETRIC_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
LEEWAY_S = 10


# base64url of '{"alg":"HS256","typ":"JWT"}' and '{"typ":"JWT","alg":"HS256"}' (PyJWT's and others' order)
_HS256_HEADER_PREFIXES = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.")


class TokenError(Exception):
    """The token is missing, malformed, expired, forged or for another audience (message is safe to show)."""


@dataclass(frozen=True)
class User:
    id: str
    role: str | None = None
    email: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False)


def create_dev_token(settings: Settings, *, subject: str | None = None, ttl_s: int = DEV_TOKEN_TTL_S) -> str:
    """A token shaped like Supabase's (HS256, aud=authenticated, role=authenticated), signed with
    SUPABASE_JWT_SECRET, so curl and the integration script can call the API locally."""
    now = int(time.time())
    claims = {
        "sub": subject or str(uuid.uuid5(uuid.NAMESPACE_URL, "medallion-dev-user")),
        "aud": settings.supabase_jwt_audience,
        "role": "authenticated",
        "email": "developer@localhost",
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.supabase_jwt_secret, algorithm="HS256")


class TokenVerifier:
    """Built once per app; thread-safe (the JWKS client caches keys and is guarded by a lock).

    A token that verified is remembered (up to CACHE_SIZE tokens) with its expiry, so a client
    polling every few seconds with the same token costs a dict lookup instead of an HMAC or RSA
    check; the expiry is checked again on every hit, exactly as `verify` would (same leeway)."""

    CACHE_SIZE = 4096

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.supabase_jwt_secret
        self.audience = settings.supabase_jwt_audience
        self.jwks_url = settings.supabase_jwks_url
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()
        self._verified: dict[str, tuple[float, User]] = {}

    def cached(self, token: str) -> User | None:
        """The user of a token verified before and not expired since; else None (call verify)."""
        hit = self._verified.get(token)
        if hit is None:
            return None
        if time.time() > hit[0] + LEEWAY_S:
            self._verified.pop(token, None)
            return None
        return hit[1]

    def needs_network(self, token: str) -> bool:
        """True when verifying may fetch the JWKS (run it off the event loop)."""
        return bool(self.jwks_url) and not token.startswith(_HS256_HEADER_PREFIXES)

    def verify(self, token: str) -> User:
        user = self.cached(token)
        if user is not None:
            return user
        user = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()  # crude but bounded; refills from the tokens in use
        self._verified[token] = (float(user.claims["exp"]), user)
        return user

    def _jwks_client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._jwks is None:
                self._jwks = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=600, timeout=5)
            return self._jwks

    def _verify(self, token: str) -> User:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("Malformed token.") from exc
        alg = header.get("alg")
        options = {"require": ["exp", "sub"], "verify_aud": True, "verify_exp": True}
        try:
            if alg == "HS256":
                if not self.secret:
                    raise TokenError("HS256 tokens are not accepted by this server.")
                claims = jwt.decode(token, self.secret, algorithms=["HS256"], audience=self.audience,
                                    options=options, leeway=LEEWAY_S)
            elif alg in ASYMMETRIC_ALGORITHMS and self.jwks_url:
                try:
                    key = self._jwks_client().get_signing_key_from_jwt(token)
                except jwt.PyJWKClientConnectionError as exc:
                    raise TokenError("Could not fetch the signing keys to verify this token.") from exc
                claims = jwt.decode(token, key.key, algorithms=ASYMMETRIC_ALGORITHMS, audience=self.audience,
                                    options=options, leeway=LEEWAY_S)
            else:
                raise TokenError("Token signed with an algorithm this server does not accept.")
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("Token expired. Sign in again.") from exc
        except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError) as exc:
            raise TokenError(f"Token not valid for this API ({exc}).") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("Invalid token signature or claims.") from exc
        return User(id=str(claims["sub"]), role=claims.get("role"), email=claims.get("email"), claims=claims)


def main() -> None:
    """`make token`: print a development token."""
    import sys

    from backend.app.config import get_settings

    sys.stdout.write(create_dev_token(get_settings()) + "\n")


if __name__ == "__main__":
    main()
