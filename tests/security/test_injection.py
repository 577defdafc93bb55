"""SQL-injection and path-traversal strings as case ids (path, query, body) and as search terms:
each answer is 422 or 404 (a search answers 200 with no rows), no answer leaks a file or a SQL
error, and no table changes (row counts of every table before == after)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from tests.security.conftest import api_routes, table_counts, wait_quiet

SQLI = [
    "1' OR '1'='1",
    "1295022' OR 1=1--",
    "1; DROP TABLE cases;--",
    "1); DELETE FROM extraction_requests; --",
    "1 UNION SELECT usename, passwd FROM pg_shadow--",
    "' OR pg_sleep(2) IS NULL --",
    "1295022'||(SELECT current_user)||'",
    "%' OR '%'='",
    "1\\'; TRUNCATE bronze_at_raw; --",
    "$$; DROP SCHEMA public CASCADE; $$",
]
TRAVERSAL = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "....//....//etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "file:///etc/passwd",
]
ODD_IDS = [
    "1295022\n",         # trailing newline: `$` in some regex engines matches before it
    "1234567890123",     # 13 digits
    "-1",
    "1e9",
    "0x1F",
    "１２３",             # full-width digits (\\d would accept them, [0-9] must not)
    "1295022 ",
    "1295022\x00",
    "",
]
BAD_IDS = SQLI + TRAVERSAL + ODD_IDS
LEAK_MARKERS = re.compile(r"root:x:0:0|\[extensions\]|syntax error at or near|psycopg|Traceback|pg_shadow|"
                          r"current_user\b|ProgrammingError|SELECT .* FROM", re.IGNORECASE)


def json_escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


@pytest.fixture(scope="module")
def seeded(client, auth):
    """A few real cases, so an injection that widened a WHERE clause would show rows."""
    for cid, name in (("880000001", "Alice Example"), ("880000002", "Bob Example")):
        r = client.post("/api/cases", json={"case_id": cid, "client_name": name}, headers=auth)
        assert r.status_code in (201, 409)
    return ["880000001", "880000002"]


def _case_routes(app):
    return [(m, p) for m, p in api_routes(app) if "{case_id}" in p]


def _check(response, where):
    assert response.status_code in (404, 422), (where, response.status_code, response.text[:300])
    assert not LEAK_MARKERS.search(response.text), (where, response.text[:300])


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v)[:40])
def test_bad_case_id_in_every_case_route_changes_nothing(sec_app, auth, database_url, seeded, bad):
    app, client = sec_app
    wait_quiet(app)
    before = table_counts(database_url)
    encoded = quote(bad, safe="")  # the raw string, percent-encoded as a browser would
    for method, path in _case_routes(app):
        for form in {encoded, bad.replace("\n", "%0A").replace("\x00", "%00")}:
            url = path.replace("{case_id}", form)
            if not form:
                url = path.replace("{case_id}", "")
            kwargs = {"json": {"case_number": "x"}} if method in ("POST", "PATCH") else {}
            response = client.request(method, url, headers=auth, follow_redirects=False, **kwargs)
            if not form and response.status_code in (307, 405):
                # "/api/cases/" is the collection, not a case: Starlette redirects the slash away
                # (or the method is not allowed there). No case was addressed, nothing changes.
                continue
            _check(response, f"{method} {url}")
    wait_quiet(app)
    assert table_counts(database_url) == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda v: repr(v)[:40])
def test_bad_case_id_in_bodies_and_queries_is_422(sec_app, auth, database_url, seeded, bad):
    app, client = sec_app
    wait_quiet(app)
    before = table_counts(database_url)
    calls = [
        ("POST", "/api/dagster/extract", {"json": {"case_id": bad}}),
        ("POST", "/api/dagster/extract/bulk", {"json": {"case_ids": ["1295022", bad]}}),
        ("POST", "/api/cases", {"json": {"case_id": bad, "client_name": "x"}}),
        ("GET", "/api/dagster/ui", {"params": {"case_id": bad}}),
        ("GET", "/api/dagster/ui", {"params": {"run_id": bad}}),
    ]
    for method, url, kwargs in calls:
        response = client.request(method, url, headers=auth, follow_redirects=False, **kwargs)
        run_id_shaped = re.fullmatch(r"[A-Za-z0-9-]{1,64}", bad) is not None
        if url == "/api/dagster/ui" and (bad == "" or ("run_id" in kwargs.get("params", {}) and run_id_shaped)):
            # Not a case id: an empty value means "not given", and "-1" or "0x1F" are well-formed
            # Dagster run ids. A redirect into the Dagster UI, no data, nothing written.
            assert response.status_code in (307, 422)
            continue
        assert response.status_code == 422, (method, url, bad, response.status_code, response.text[:300])
        assert not LEAK_MARKERS.search(response.text)
    wait_quiet(app)
    assert table_counts(database_url) == before


@pytest.mark.parametrize("term", SQLI + TRAVERSAL + ["%", "_", "*", "\\", "' OR ''='"],
                         ids=lambda v: repr(v)[:40])
def test_injection_as_search_term_finds_nothing_and_changes_nothing(sec_app, auth, database_url, seeded, term):
    app, client = sec_app
    before = table_counts(database_url)
    for params in ({"q": term}, {"status_code": term}, {"q": term, "sort": "client_name"}):
        response = client.get("/api/cases", params=params, headers=auth)
        assert response.status_code in (200, 404, 422), (params, response.status_code, response.text[:300])
        # The list answer echoes the search term back (`q`); only what is NOT the echo counts.
        assert not LEAK_MARKERS.search(response.text.replace(term, "").replace(json_escaped(term), "")), \
            response.text[:300]
        if response.status_code == 200:
            # Wildcards and quotes are literal text: no seeded case has them in its id, number or name.
            body = response.json()
            assert body["total"] == 0 and body["items"] == [], (params, body["total"])
    response = client.get("/api/cases", params={"sort": term}, headers=auth)
    assert response.status_code == 422
    assert table_counts(database_url) == before


def test_control_plain_search_finds_the_seeded_cases(client, auth, seeded):
    """Guards the test above: a plain term does find rows, so `total == 0` there means something."""
    body = client.get("/api/cases", params={"q": "Example"}, headers=auth).json()
    assert {i["case_id"] for i in body["items"]} >= set(seeded)


def test_tables_survive(database_url, seeded):
    counts = table_counts(database_url)
    for table in ("public.cases", "public.extraction_requests", "public.bronze_at_raw"):
        assert table in counts
    assert counts["public.cases"] >= 2


# A NUL byte reaches Postgres, which refuses it (psycopg.DataError): a client error, not a 500.


def test_nul_byte_in_search_term_is_a_client_error(client, auth):
    response = client.get("/api/cases", params={"q": "ab\x00c"}, headers=auth)
    assert response.status_code in (200, 422), response.status_code


def test_nul_byte_in_a_case_field_is_a_client_error(client, auth, case_id):
    response = client.post("/api/cases", json={"case_id": case_id, "client_name": "Eve\u0000"}, headers=auth)
    assert response.status_code == 422, response.status_code
