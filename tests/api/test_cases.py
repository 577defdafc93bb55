"""Cases CRUD, search, and the per-case grid reads (filled by the real SQL triggers)."""

from __future__ import annotations

import pytest


def test_crud(api, case_id):
    created = api.post("/api/cases", json={"case_id": case_id, "case_number": "TRA-9", "client_name": "Ada Lovelace"})
    assert created.status_code == 201
    assert created.json()["status_code"] == "NEW" and created.json()["latest_extraction"] is None
    duplicate = api.post("/api/cases", json={"case_id": case_id})
    assert duplicate.status_code == 409 and duplicate.json()["type"] == "case_exists"
    assert api.get(f"/api/cases/{case_id}").json()["client_name"] == "Ada Lovelace"
    updated = api.patch(f"/api/cases/{case_id}", json={"status_code": "ACTIVE"}).json()
    assert updated["status_code"] == "ACTIVE" and updated["client_name"] == "Ada Lovelace"
    assert api.delete(f"/api/cases/{case_id}").status_code == 204
    gone = api.get(f"/api/cases/{case_id}")
    assert gone.status_code == 404 and gone.json() == {"type": "case_not_found", "detail": f"Case {case_id} not found."}


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("patch", ""), ("delete", ""), ("get", "/tax-years"),
                                                ("get", "/employment"), ("get", "/projections")])
def test_unknown_case_is_404(api, case_id, method, suffix):
    kwargs = {"json": {"client_name": "x"}} if method == "patch" else {}
    response = getattr(api, method)(f"/api/cases/{case_id}{suffix}", **kwargs)
    assert response.status_code == 404 and response.json()["type"] == "case_not_found"


@pytest.mark.parametrize("path", ["/api/cases/12x", "/api/cases/1234567890123/tax-years",
                                  "/api/calculations/abc/csed"])
def test_bad_case_id_is_422(api, path):
    response = api.get(path)
    assert response.status_code == 422 and response.json()["type"] == "invalid_case_id"


def test_create_rejects_bad_case_id(api):
    response = api.post("/api/cases", json={"case_id": "12-34"})
    assert response.status_code == 422 and response.json()["type"] == "invalid_case_id"


def test_list_search_and_paging(api, case_id):
    prefix = case_id[:9]
    ids = [f"{prefix}{i:03d}"[-12:] for i in range(3)]
    for i, cid in enumerate(ids):
        api.post("/api/cases", json={"case_id": cid, "case_number": f"NUM-{prefix}-{i}",
                                     "client_name": f"Grace Hopper {prefix} {i}"})
    by_id = api.get("/api/cases", params={"q": prefix, "sort": "case_id"}).json()
    assert [c["case_id"] for c in by_id["items"]] == ids and by_id["total"] == 3
    page = api.get("/api/cases", params={"q": prefix, "sort": "case_id", "limit": 2, "offset": 2}).json()
    assert [c["case_id"] for c in page["items"]] == ids[2:] and page["total"] == 3
    by_name = api.get("/api/cases", params={"q": f"hopper {prefix} 1"}).json()
    assert [c["case_id"] for c in by_name["items"]] == [ids[1]]
    by_number = api.get("/api/cases", params={"q": f"num-{prefix}-2"}).json()
    assert [c["case_id"] for c in by_number["items"]] == [ids[2]]
    wildcard = api.get("/api/cases", params={"q": "%"}).json()
    assert wildcard["total"] == 0
    assert api.get("/api/cases", params={"limit": 0}).status_code == 422


def test_triggers_fill_silver_and_status_follows(api, ingested):
    status = api.get(f"/api/dagster/status/{ingested}").json()
    assert status["bronze"]["at"] and status["bronze"]["wi"]
    assert status["silver"]["tax_years"] > 0 and status["silver"]["account_activity"] > 0
    assert status["gold"]["employment"] > 0 and status["gold"]["household"] > 0
    assert status["status"] == "complete"


def test_grid_reads(api, ingested):
    years = api.get(f"/api/cases/{ingested}/tax-years").json()
    assert years["available"] and years["count"] > 0
    first = years["items"][0]
    assert {"tax_year", "csed_date", "csed_status", "assessments", "suspensions"} <= set(first)
    assert any(y["assessments"] for y in years["items"])
    assert "raw_response" not in first
    activity = api.get(f"/api/cases/{ingested}/account-activity").json()
    assert activity["count"] > 0 and activity["total"] == activity["count"]
    year = first["tax_year"]
    one_year = api.get(f"/api/cases/{ingested}/account-activity", params={"tax_year": year}).json()
    assert 0 < one_year["count"] <= activity["count"]
    assert all(row["tax_year"] == year for row in one_year["items"])
    paged = api.get(f"/api/cases/{ingested}/account-activity", params={"limit": 1}).json()
    assert paged["count"] == 1 and paged["total"] == activity["count"]
    for suffix in ("income-documents", "trt", "employment", "household", "financial-accounts", "income-sources",
                   "expenses", "vehicles", "real-property", "projections"):
        response = api.get(f"/api/cases/{ingested}/{suffix}")
        assert response.status_code == 200, (suffix, response.text)
        assert isinstance(response.json()["items"], list)
    assert api.get(f"/api/cases/{ingested}/income-documents").json()["count"] > 0
    assert api.get(f"/api/cases/{ingested}/employment").json()["count"] > 0
    assert api.get(f"/api/cases/{ingested}/projections").json()["count"] > 0


def test_delete_removes_the_case_data(api, ingested):
    assert api.delete(f"/api/cases/{ingested}").status_code == 204
    assert api.get(f"/api/dagster/status/{ingested}").json()["status"] == "not_started"
