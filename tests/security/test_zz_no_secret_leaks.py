"""After the security suite: no secret appears in any response (body or headers) or any log line.

Named test_zz_* so it runs after the other security modules (pytest runs files in name order)
and scans what they produced as well; it also drives the secret-bearing paths itself, so it
proves something when run alone: the legacy extraction (which sends the TiParser key and the
CaseHelper password upstream), refused credentials (a wrong key and a wrong password, whose
values are secrets too), failing upstreams, refused tokens, the OpenAPI page.

Secrets: the JWT secret, the TiParser API key, the CaseHelper password, the wrong ones, and every
bearer token the suite used. Logs: the app's stdout handler, its app.log handler (a temporary
file for this suite, plus whatever the shared backend/logs/app.log gained meanwhile) and the
root logger."""

from __future__ import annotations

import time

import jwt
from fastapi.testclient import TestClient

from backend.app.main import create_app
from backend.app.security import create_dev_token
from tests.api.conftest import FakeSubmitter
from tests.security.conftest import (
    CASEHELPER_PASSWORD,
    JWT_SECRET,
    TIPARSER_KEY,
    WRONG_TIPARSER_KEY,
    RecordingClient,
    sec_settings_for,
    wait_quiet,
)

WRONG_PASSWORD = "sec-wrong-casehelper-pw-" + TIPARSER_KEY[-12:]


def _drive_secret_bearing_paths(app, client, auth, capture):
    assert client.post("/api/extraction/trigger/1000001", headers=auth).json()["status"] in ("complete", "partial")
    refused = client.post("/api/extraction/trigger/4000403", headers=auth)
    assert refused.status_code == 200
    assert "TiParser API key invalid or expired" in refused.text  # the plain reason, without the key
    client.post("/api/extraction/trigger/4000500", headers=auth)
    client.post("/api/dagster/cases/1000002/extract", headers=auth)
    client.post("/api/dagster/extract", json={"case_id": "1000003", "async_mode": True}, headers=auth)
    client.get("/api/dagster/status/1000001", headers=auth)
    client.get("/api/dagster/status/4000403", headers=auth)
    client.get("/api/dagster/health", headers=auth)
    client.get("/readyz")
    client.get("/openapi.json")
    client.get("/docs")
    # Refused tokens: a forged one signed with the real secret's neighbour, an expired real one.
    expired = jwt.encode({"sub": "u", "aud": "authenticated", "exp": int(time.time()) - 100}, JWT_SECRET,
                         algorithm="HS256")
    capture.tokens.add(expired)
    client.get("/api/cases", headers={"Authorization": f"Bearer {expired}"})
    client.get("/api/cases", headers={"Authorization": f"Bearer {expired}x"})
    client.get(f"/api/cases?q={auth['Authorization'].split()[1][:40]}", headers=auth)  # a token fragment as a term
    wait_quiet(app)


def _drive_wrong_credentials(database_url, sec_sandbox, capture):
    """A second app whose TiParser key and CaseHelper password are wrong: both upstreams refuse."""
    settings = sec_settings_for(sec_sandbox, tiparser_api_key=WRONG_TIPARSER_KEY, casehelper_password=WRONG_PASSWORD)
    token = create_dev_token(settings)
    capture.tokens.add(token)
    app = create_app(settings, database_url=database_url, submitter=FakeSubmitter(), log_file=capture.log_file)
    with RecordingClient(app, raise_server_exceptions=False) as other:
        other.capture = capture
        answer = other.post("/api/extraction/trigger/1000005", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json()["status"] == "failed", answer.text[:300]
        assert "TiParser API key invalid or expired" in answer.text


def test_no_secret_in_any_response_or_log(sec_app, auth, token, capture, database_url, sec_sandbox):
    app, client = sec_app
    _drive_secret_bearing_paths(app, client, auth, capture)
    _drive_wrong_credentials(database_url, sec_sandbox, capture)

    secrets = {"JWT secret": JWT_SECRET, "TiParser API key": TIPARSER_KEY, "CaseHelper password": CASEHELPER_PASSWORD,
               "wrong TiParser key": WRONG_TIPARSER_KEY, "wrong CaseHelper password": WRONG_PASSWORD}
    secrets.update({f"bearer token #{i}": t for i, t in enumerate(sorted(capture.tokens))})
    logs = capture.log_text()
    # The capture works: the access lines of this very test are in it, as JSON with request ids.
    assert '"logger": "medallion.access"' in logs and "/api/extraction/trigger/4000403" in logs
    assert len(capture.bodies) >= 10, "the suite's responses were not recorded"

    leaks = []
    for name, value in secrets.items():
        for label, status, text in capture.bodies:
            if value in text:
                leaks.append(f"{name} in the response to {label} ({status})")
        if value in logs:
            line = next(x for x in logs.splitlines() if value in x)
            leaks.append(f"{name} in a log line: {line[:200]}")
        # Half a token (a signature or payload) is as bad as the whole of it.
        if name.startswith("bearer") and value.split(".")[2] in logs:
            leaks.append(f"the signature of {name} in the logs")
    assert leaks == [], "\n".join(leaks[:20])


def test_a_plain_client_sees_no_stack_trace(sec_app, auth):
    app, _ = sec_app
    with TestClient(app, raise_server_exceptions=False) as plain:
        for path in ("/api/cases/1/tax-years", "/api/calculations/1/csed", "/api/dagster/status/1"):
            text = plain.get(path, headers=auth).text
            assert "Traceback" not in text and 'File "' not in text
