"""Error shapes (no stack traces), 503 when the database is gone, JSON logs without secrets,
and the OpenAPI document."""

from __future__ import annotations

import io
import json
import logging

from fastapi.testclient import TestClient

from backend.app.logging_config import JsonFormatter
from backend.app.main import create_app


def test_database_unreachable_is_503(settings, submitter, auth):
    app = create_app(settings, database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1",
                     submitter=submitter, log_file=None)
    with TestClient(app) as client:
        for path in ("/api/cases", "/api/dagster/status/1295022", "/api/cases/1295022/tax-years"):
            response = client.get(path, headers=auth)
            assert response.status_code == 503, path
            assert response.json() == {"type": "database_unavailable",
                                       "detail": "The database is not reachable right now. Try again in a minute."}
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200


def test_unexpected_error_has_no_stack_trace(database_url, settings, submitter, auth):
    app = create_app(settings, database_url=database_url, submitter=submitter, log_file=None)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /srv/app.py line 3")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom", headers=auth)
    assert response.status_code == 500
    assert response.json() == {"type": "internal_error",
                               "detail": "Something went wrong on our side. The error has been logged."}
    assert "Traceback" not in response.text and "secret internals" not in response.text


def test_unknown_endpoint_and_method(api):
    missing = api.get("/api/nope")
    assert missing.status_code == 404 and missing.json()["type"] == "not_found"
    wrong = api.put("/api/dagster/status/1")
    assert wrong.status_code == 405 and wrong.json()["type"] == "method_not_allowed"


def test_request_id_is_echoed_and_logged_without_the_token(api, case_id, token):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("medallion")
    logger.addHandler(handler)
    try:
        response = api.get(f"/api/dagster/status/{case_id}", headers={"X-Request-ID": "req-abc-123"})
        logging.getLogger("medallion.test").info("token in a message: Bearer %s", token)
    finally:
        logger.removeHandler(handler)
    assert response.headers["x-request-id"] == "req-abc-123"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = next(line for line in lines if line.get("path") == f"/api/dagster/status/{case_id}")
    assert access["request_id"] == "req-abc-123" and access["case_id"] == case_id and access["status"] == 200
    assert "run_id" in access
    assert token not in stream.getvalue()
    assert settings_secret_absent(stream.getvalue())


def settings_secret_absent(text: str) -> bool:
    from backend.app.config import LOCAL_JWT_SECRET

    return LOCAL_JWT_SECRET not in text


def test_cors_for_the_react_dev_server(client):
    response = client.options("/api/cases", headers={"Origin": "http://localhost:5173",
                                                     "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "authorization"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    blocked = client.options("/api/cases", headers={"Origin": "http://evil.example",
                                                    "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in blocked.headers


def test_openapi_is_complete(client):
    spec = client.get("/openapi.json").json()
    ids = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            ids.append(op["operationId"])
            assert "-" in op["operationId"]
            if path.startswith("/api/"):
                assert "401" in op["responses"], (method, path)
                assert op.get("security"), (method, path)
                if "{case_id}" in path:
                    assert "422" in op["responses"]
            ok = next(code for code in op["responses"] if code.startswith("2") or code == "307")
            if ok not in ("204", "307"):
                assert op["responses"][ok]["content"]["application/json"]["schema"], (method, path)
    assert len(ids) == len(set(ids))
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert {"dagster-extract_case", "dagster-case_status", "cases-list_cases",
            "calculations-ability_to_pay", "extraction-trigger_legacy"} <= set(ids)
