"""Sign-in: every /api route needs a valid Supabase JWT; health stays open."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.app.security import TokenError, TokenVerifier
from tests.api.conftest import forge, make_settings

PROTECTED = [
    ("get", "/api/dagster/status/1295022"),
    ("post", "/api/dagster/cases/1295022/extract"),
    ("post", "/api/extraction/trigger/1295022"),
    ("get", "/api/cases"),
    ("get", "/api/calculations/1295022/csed"),
    ("get", "/api/dagster/health"),
    ("get", "/api/dagster/ui"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_token_is_401(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.json()["type"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_token_is_401(client, settings):
    token = forge(settings, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    response = client.get("/api/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


def test_forged_signature_is_401(client, settings):
    token = forge(settings, _secret="not-the-real-secret-but-long-enough-for-hs256")
    response = client.get("/api/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_tampered_payload_is_401(client, token):
    header, _payload, signature = token.split(".")
    other = jwt.encode({"sub": "x", "aud": "authenticated", "exp": int(time.time()) + 60}, "k" * 40).split(".")[1]
    response = client.get("/api/cases", headers={"Authorization": f"Bearer {header}.{other}.{signature}"})
    assert response.status_code == 401


def test_wrong_audience_is_401(client, settings):
    token = forge(settings, aud="anon")
    response = client.get("/api/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "not valid for this api" in response.json()["detail"].lower()


@pytest.mark.parametrize("claims", [{"exp": None}, {"sub": None}, {"aud": None}])
def test_missing_required_claims_is_401(client, settings, claims):
    response = client.get("/api/cases", headers={"Authorization": f"Bearer {forge(settings, **claims)}"})
    assert response.status_code == 401


@pytest.mark.parametrize("value", ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "eyJhbGciOi"])
def test_malformed_header_is_401(client, value):
    assert client.get("/api/cases", headers={"Authorization": value}).status_code == 401


def test_alg_none_is_401(client):
    token = jwt.encode({"sub": "x", "aud": "authenticated", "exp": int(time.time()) + 60}, None, algorithm="none")
    assert client.get("/api/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_valid_token_is_accepted(client, auth):
    assert client.get("/api/cases", headers=auth).status_code == 200


@pytest.mark.parametrize("path", ["/health", "/healthz", "/readyz"])
def test_health_is_open(client, path):
    assert client.get(path).status_code == 200


def test_jwks_verification_accepts_the_project_key_and_rejects_others():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = TokenVerifier(make_settings(supabase_jwks_url="http://127.0.0.1:1/jwks.json"))

    class FakeJwks:
        def get_signing_key_from_jwt(self, _token):
            return jwt.PyJWK.from_dict({**jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True),
                                        "alg": "RS256", "kid": "k1"})

    verifier._jwks = FakeJwks()  # the network fetch is PyJWKClient's; the decision logic is ours
    claims = {"sub": "user-1", "aud": "authenticated", "exp": int(time.time()) + 60}
    good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
    assert verifier.verify(good).id == "user-1"
    with pytest.raises(TokenError):
        verifier.verify(jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"}))
    with pytest.raises(TokenError):
        verifier.verify(jwt.encode({**claims, "aud": "anon"}, private, algorithm="RS256", headers={"kid": "k1"}))


def test_asymmetric_token_without_jwks_configured_is_rejected():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = TokenVerifier(make_settings())
    token = jwt.encode({"sub": "u", "aud": "authenticated", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    with pytest.raises(TokenError):
        verifier.verify(token)
