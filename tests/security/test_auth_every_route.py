"""Every /api route, enumerated from the app's own route table (never a hand-written list),
answers 401 without a token or with a bad one, and does nothing: no row changes anywhere."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid

import jwt
import pytest

from backend.app.config import LOCAL_JWT_SECRET
from tests.security.conftest import JWT_SECRET, api_routes, table_counts, wait_quiet

SAMPLE_PATH = {"case_id": "1295022"}
SAMPLE_BODY = {"case_id": "1295022", "case_ids": ["1295022"], "case_number": "TRA-1"}


def _claims(**over):
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated", "iat": now, "exp": now + 600}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def bad_headers() -> dict[str, dict[str, str]]:
    """Name -> Authorization header (or none) that must all be refused."""
    good_secret = JWT_SECRET
    return {
        "no_token": {},
        "empty_bearer": {"Authorization": "Bearer "},
        "garbage": {"Authorization": "Bearer this-is-not-a-jwt"},
        "garbage_three_parts": {"Authorization": "Bearer aaa.bbb.ccc"},
        "basic_scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "token_without_scheme": {"Authorization": jwt.encode(_claims(), good_secret, algorithm="HS256")},
        "forged_signature": {"Authorization": "Bearer " + jwt.encode(
            _claims(), "an-attacker-secret-of-plenty-length-xxxxxxxx", algorithm="HS256")},
        # The well-known local development secret must not open a server configured with a real one.
        "signed_with_dev_default_secret": {"Authorization": "Bearer " + jwt.encode(
            _claims(), LOCAL_JWT_SECRET, algorithm="HS256")},
        "expired": {"Authorization": "Bearer " + jwt.encode(
            _claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), good_secret, algorithm="HS256")},
        "wrong_audience": {"Authorization": "Bearer " + jwt.encode(_claims(aud="anon"), good_secret,
                                                                   algorithm="HS256")},
        "no_expiry": {"Authorization": "Bearer " + jwt.encode(_claims(exp=None), good_secret, algorithm="HS256")},
        "alg_none": {"Authorization": "Bearer " + _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims()) + "."},
        "alg_hs512_same_secret": {"Authorization": "Bearer " + jwt.encode(_claims(), good_secret, algorithm="HS512")},
        "tampered_payload": {"Authorization": "Bearer " + ".".join([
            jwt.encode(_claims(), good_secret, algorithm="HS256").split(".")[0],
            _b64(_claims(role="service_role")),
            jwt.encode(_claims(), good_secret, algorithm="HS256").split(".")[2]])},
    }


BAD = bad_headers()


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH.get(m.group(1), "1"), path)


def test_routes_are_enumerated_from_the_app(sec_app):
    app, _ = sec_app
    routes = api_routes(app)
    # A floor, not a list: the suite notices if enumeration silently finds nothing.
    assert len(routes) >= 20, routes
    assert {m for m, _ in routes} >= {"GET", "POST", "PATCH", "DELETE"}
    openapi_paths = {p for p in app.openapi()["paths"] if p.startswith("/api")}
    assert openapi_paths == {p for _, p in routes}, "an /api route is missing from the OpenAPI document"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_every_api_route_refuses_a_missing_or_bad_token(sec_app, database_url, kind):
    app, client = sec_app
    wait_quiet(app)
    before = table_counts(database_url)
    wrong = []
    for method, path in api_routes(app):
        kwargs = {"headers": BAD[kind]}
        if method in ("POST", "PATCH", "PUT"):
            kwargs["json"] = SAMPLE_BODY
        response = client.request(method, _concrete(path), follow_redirects=False, **kwargs)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 401 or body.get("type") != "not_authenticated" \
                or response.headers.get("www-authenticate") != "Bearer":
            wrong.append((method, path, response.status_code, response.text[:200]))
    wait_quiet(app)
    assert wrong == [], f"{kind}: routes that did not answer 401: {wrong}"
    assert table_counts(database_url) == before, f"{kind}: a refused request changed the database"


def test_the_valid_token_is_accepted_on_every_get_route(sec_app, auth):
    """The control: the same matrix with a good token is not 401 (so the 401s above are about the token)."""
    app, client = sec_app
    for method, path in api_routes(app):
        if method != "GET":
            continue
        response = client.get(_concrete(path), headers=auth, follow_redirects=False)
        assert response.status_code != 401, (path, response.text[:200])
        # Dagster is deliberately not running here: its health route says so with 503.
        allowed_5xx = path == "/api/dagster/health" and response.status_code == 503
        assert response.status_code < 500 or allowed_5xx, (path, response.status_code, response.text[:200])


def test_open_endpoints_reveal_no_configuration(client):
    for path in ("/health", "/readyz"):
        response = client.get(path)
        assert response.status_code in (200, 503)
        assert set(response.json()) <= {"status", "environment", "version", "database", "dagster", "detail"}
