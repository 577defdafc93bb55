"""Supabase-issued JWTs: verification for the API and development tokens for local use."""

from __future__ import annotations

import time
import uuid

import jwt

from backend.app.config import Settings

DEV_TOKEN_TTL_S = 12 * 3600


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


def main() -> None:
    """`make token`: print a development token."""
    import sys

    from backend.app.config import get_settings

    sys.stdout.write(create_dev_token(get_settings()) + "\n")


if __name__ == "__main__":
    main()
