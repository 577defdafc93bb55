"""Minimal reproductions of what the fuzzer found where the API and its OpenAPI document
disagree. Strict xfail: each fails today; when the fix lands it XPASSes, the run fails, and
the marker (and the matching exemption in test_api_fuzz.py) is to be removed."""

from __future__ import annotations

import pytest


@pytest.mark.xfail(strict=True, reason=(
    "BUG: GET /api/dagster/health answers 503 with a DagsterHealth body, but the OpenAPI document "
    "(backend/app/routers/dagster_extraction.py, @router.get('/health', responses=error_responses(401, 503))) "
    "declares 503 as ErrorResponse {type, detail}. Fix: responses={**error_responses(401), 503: {'model': "
    "DagsterHealth, 'description': 'Dagster is not reachable'}}."))
def test_dagster_health_503_body_matches_its_documented_schema(api):
    response = api.get("/api/dagster/health")
    assert response.status_code == 503  # no Dagster in these tests
    documented = api.get("/openapi.json").json()["paths"]["/api/dagster/health"]["get"]["responses"]["503"]
    ref = documented["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/DagsterHealth"), ref


@pytest.mark.xfail(strict=True, reason=(
    "BUG (documentation): a request body that is not JSON answers 400 {type: http_error, detail: 'There was an "
    "error parsing the body'}, and no operation documents 400. Fix: backend/app/schemas/common.py, add 400 "
    "('The request body is not valid JSON.') to the error_responses used by body-taking routes (AUTH_ERRORS / "
    "CASE_ERRORS / error_responses(401, 409, 422, 503)), or answer 422 for it in main.py's handler."))
def test_unparseable_body_answer_is_documented(api):
    response = api.post("/api/dagster/extract", content=b"\x81{not json", headers={"Content-Type": "application/json"})
    documented = api.get("/openapi.json").json()["paths"]["/api/dagster/extract"]["post"]["responses"]
    assert str(response.status_code) in documented, (response.status_code, sorted(documented))
