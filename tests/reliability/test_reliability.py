"""Reliability scenarios against a real isolated stack (tests/reliability/stack.py): embedded
Postgres, sandboxes, `dagster dev` on the production instance yaml, the API under uvicorn.

    pytest -m reliability tests/reliability

RELIABILITY_REQUESTS (default 200, the issue's figure; what `.ci/run` runs) sets the size of the
load in scenario (a). Scenarios run in file order on one stack; each uses case ids of its own.
Every wait is bounded; a failure names the requests and the state they were left in."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.reliability.helpers import (
    RESPONSES,
    TOKENS,
    duplicated_rows,
    find_secrets,
    plain_reason,
    ran_more_than_once,
    record,
    requests_state,
    runs_per_request,
    token,
    trigger_many,
    wait_terminal,
)

# Per test; the waits inside are shorter and fail first, with the requests named.
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(480)]

N_REQUESTS = int(os.environ.get("RELIABILITY_REQUESTS", "200"))
# Sandbox fault cases (sandbox/README.md) and the outcome each must reach.
FAULTS = {
    "4000403": ("failed", "TiParser API key invalid or expired"),
    "4000500": ("complete", None),   # 500 twice, retried
    "4000429": ("complete", None),   # 429 + Retry-After, retried
    "4000401": ("complete", None),   # upstream session expired once, retried
    "4000405": ("complete", None),   # GET refused, POST works
    "4000206": ("failed", None),     # truncated JSON
    "4000207": ("failed", None),     # malformed JSON
    "4000404": ("partial", None),    # no transcripts on file
    "5000404": ("complete", None),   # no interview: no data, not a failure
    "5000500": ("partial", None),    # interview always 500
}


def _accepted(results):
    bad = [(c, s, b) for c, s, b in results if s not in (200, 202)]
    assert bad == [], f"triggers not accepted: {bad[:5]}"
    return {c: b["request_id"] for c, _s, b in results}


def test_a_load_with_faults_nothing_lost_nothing_twice(stack):
    """N extraction requests (fresh normal cases plus the ten fault cases) from 16 concurrent clients,
    then repeated clicks: every request ends final with the outcome its case calls for and a plain
    reason, each ran under exactly one Dagster run, each normal case was fetched once, and no
    bronze, silver or gold row is duplicated.

    The 403 case is sent alone first: a TiParser 403 means the key is refused, so a run stops
    calling TiParser for all its cases (docs/06); the sandbox refuses the key for that one case
    only, and the normal cases that would share its run are not the point here."""
    normal = [str(71_000_000 + i) for i in range(max(0, N_REQUESTS - len(FAULTS)))]
    cases = normal + list(FAULTS)
    started = time.monotonic()
    results = trigger_many(stack, ["4000403"])
    rid_403 = _accepted(results)["4000403"]
    deadline = time.monotonic() + 60
    while not requests_state(stack, [rid_403]).get(rid_403, {}).get("run_id"):
        assert time.monotonic() < deadline, f"the 403 case's request {rid_403} got no run in 60s"
        time.sleep(0.2)
    results += trigger_many(stack, [c for c in cases if c != "4000403"])
    by_case = _accepted(results)
    # A repeated click while the request is active returns that same request (not a second run).
    again = trigger_many(stack, normal[:10] + ["4000500"])
    for case_id, status, body in again:
        assert status in (200, 202), f"repeated click on case {case_id}: {status} {body}"
        if body.get("status") == "already_active":
            assert body["request_id"] == by_case[case_id], \
                f"case {case_id}: repeated click returned request {body['request_id']}, active is {by_case[case_id]}"
    request_ids = list(dict.fromkeys([*by_case.values(), *(b["request_id"] for _, _, b in again)]))
    state = wait_terminal(stack, request_ids, timeout=float(os.environ.get("RELIABILITY_WAIT_S", "300")))
    elapsed = time.monotonic() - started

    outcomes = Counter(s["status"] for s in state.values())
    runs = runs_per_request(stack)
    n_runs = len({r for rid in request_ids for r in runs.get(rid, [])})
    print(f"\n(a) {len(request_ids)} requests over {len(cases)} cases, {n_runs} Dagster runs, final in "
          f"{elapsed:.0f}s: {dict(outcomes)}")
    # Every request ends complete, or failed/partial with a plain reason.
    unexplained = [(rid, s) for rid, s in state.items() if s["status"] != "complete" and not plain_reason(s["error"])]
    assert unexplained == [], f"final without a plain reason: {unexplained[:5]}"
    wrong = []
    for case_id, (expected, reason) in FAULTS.items():
        got = state[by_case[case_id]]
        if got["status"] != expected or (reason and reason not in (got["error"] or "")):
            wrong.append(f"fault case {case_id} request {by_case[case_id]}: {got['status']} {got['error']!r}, "
                         f"expected {expected}" + (f" with {reason!r}" if reason else ""))
    wrong += [f"case {c} request {by_case[c]}: {state[by_case[c]]['status']} {state[by_case[c]]['error']!r}"
              for c in normal if state[by_case[c]]["status"] != "complete"]
    assert wrong == [], f"{len(wrong)} requests with the wrong outcome:\n" + "\n".join(wrong[:15])
    # None ran twice: exactly one Dagster run carries each request (tag or run config), and each
    # normal case's AT was fetched from TiParser once per request (a repeated click after the first
    # request had finished is a new request, and fetches again).
    twice = ran_more_than_once(runs, request_ids)
    assert twice == [], f"{len(twice)} requests not run exactly once:\n" + "\n".join(twice[:15])
    per_case = Counter(s["case_id"] for s in state.values())
    calls = stack.sandbox.calls("tiparser")
    fetched = [f"case {c}: {calls.get(c, {}).get('analysis/at', 0)} AT fetches for {per_case[c]} request(s)"
               for c in normal if calls.get(c, {}).get("analysis/at") != per_case[c]]
    assert fetched == [], f"{len(fetched)} normal cases not fetched exactly once:\n" + "\n".join(fetched[:15])
    # No silver or gold row duplicated (nor bronze).
    dup = duplicated_rows(stack, cases)
    assert dup == [], f"{len(dup)} duplicated (or lost) rows:\n" + "\n".join(dup[:15])


def _wait_all_complete(stack, case_ids, timeout):
    """Each case ends with a complete request; re-trigger (as a user would) a case whose request
    failed because of the fault. Returns {case_id: number of re-triggers}."""
    retriggered: Counter = Counter()
    deadline = time.monotonic() + timeout
    while True:
        with stack.db() as conn:
            latest = dict(conn.execute(
                "SELECT DISTINCT ON (case_id) case_id, status FROM public.extraction_requests"
                " WHERE case_id = ANY(%s) ORDER BY case_id, requested_at DESC", (case_ids,)).fetchall())
        failed = [c for c in case_ids if latest.get(c) in ("failed", "partial")]
        if failed:
            for c, status, body in trigger_many(stack, failed):
                assert status in (200, 202), body
                retriggered[c] += 1
        if all(latest.get(c) == "complete" for c in case_ids):
            return retriggered
        if time.monotonic() > deadline:
            stuck = {c: latest.get(c) for c in case_ids if latest.get(c) != "complete"}
            raise AssertionError(f"cases not complete after {timeout:.0f}s: {stuck}")
        time.sleep(1.0)


def test_d_api_restart_with_requests_pending(stack):
    """Triggers answered 202, then the API goes down before (or while) its background thread hands
    them to Dagster: graceful SIGTERM once, SIGKILL once. The requests are in Postgres; after the
    restart they run (the case sensor submits what is still queued; its reconciliation what was
    marked submitted but never handed over), each once. At least one request must really have been
    pending (queued, or submitted with no run) while the API was down, or the scenario proved nothing."""
    all_ids: dict[str, str] = {}
    pending_at_stop: dict[str, str] = {}
    for round_no, sig in enumerate((signal.SIGTERM, signal.SIGKILL)):
        cases = [str(72_000_000 + round_no * 100 + i) for i in range(8)]
        headers = {"Authorization": f"Bearer {token()}"}
        r = httpx.post(f"{stack.api_url}/api/dagster/extract/bulk", json={"case_ids": cases}, headers=headers,
                       timeout=30)
        record("POST bulk", r)
        assert r.status_code == 202, r.text
        ids = [x["request_id"] for x in r.json()["results"]]
        all_ids.update({x["case_id"]: x["request_id"] for x in r.json()["results"]})
        stack.stop_api(sig)
        at_stop = requests_state(stack, ids)
        pending = {rid: s["status"] for rid, s in at_stop.items()
                   if s["status"] == "queued" or (s["status"] == "submitted" and not s["run_id"])}
        pending_at_stop.update(pending)
        print(f"\n(d) API stopped with {signal.Signals(sig).name}: {len(pending)} of {len(ids)} requests pending "
              f"({dict(Counter(pending.values()))})")
        stack.start_api()
    assert pending_at_stop, "the API had handed every request to Dagster before it stopped: nothing was pending"
    state = wait_terminal(stack, list(all_ids.values()), timeout=180)
    not_complete = {rid: s for rid, s in state.items() if s["status"] != "complete"}
    assert not_complete == {}, f"requests pending at the API restart did not complete: {not_complete}"
    twice = ran_more_than_once(runs_per_request(stack), list(all_ids.values()))
    assert twice == [], "requests pending at the API restart not run exactly once:\n" + "\n".join(twice)
    dup = duplicated_rows(stack, list(all_ids))
    assert dup == [], "duplicated rows:\n" + "\n".join(dup)


def test_b_dagster_killed_mid_run_then_restarted(stack):
    """SIGKILL to the whole Dagster process group (webserver, daemon, code server, run workers)
    while runs are in flight, then a restart. Nothing is edited by hand and nothing re-triggered:
    run monitoring fails the runs whose worker died (LocalRunLauncher's health check) or that
    never started (start timeout); the run-failure sensor and the case sensor's reconciliation
    give their requests a new attempt; every case ends complete, with no duplicate rows."""
    cases = [str(73_000_000 + i) for i in range(12)]
    by_case = _accepted(trigger_many(stack, cases))
    deadline = time.monotonic() + 90
    running = []
    while time.monotonic() < deadline:
        running = [s for s in requests_state(stack, list(by_case.values())).values() if s["status"] == "running"]
        if running:
            break
        time.sleep(0.2)
    assert running, "no run was in flight to interrupt"
    stack.kill_dagster()
    killed_at = time.monotonic()
    before = requests_state(stack, list(by_case.values()))
    interrupted = {rid for rid, s in before.items() if s["status"] not in ("complete", "partial", "failed")}
    print(f"\n(b) killed Dagster with {len(interrupted)} request(s) unfinished "
          f"({sum(s['status'] == 'running' for s in before.values())} running)")
    stack.start_dagster()
    state = wait_terminal(stack, list(by_case.values()), timeout=float(os.environ.get("RELIABILITY_B_WAIT_S", "150")))
    print(f"(b) all {len(state)} requests final {time.monotonic() - killed_at:.0f}s after the kill: "
          f"{dict(Counter(s['status'] for s in state.values()))}; attempts of the interrupted: "
          f"{sorted(state[r]['attempts'] for r in interrupted)}")
    not_complete = {by: s for by, s in state.items() if s["status"] != "complete"}
    assert not_complete == {}, f"interrupted requests did not complete by themselves: {not_complete}"
    # Each retry ran under its own run; a request never has two runs alive at once (checked by
    # the claim), and every case's bronze/silver/gold is as a clean re-derivation makes it.
    dup = duplicated_rows(stack, cases)
    assert dup == [], "duplicated rows after the kill and restart:\n" + "\n".join(dup)


def test_c_postgres_down_for_10s_under_load(stack):
    """The app database stops for ~10 s while clients keep triggering and polling. Meanwhile the
    API answers 503 (never 500, never a hang); afterwards it recovers by itself (no restart), and
    every request it accepted (202) reaches a final state."""
    headers = {"Authorization": f"Bearer {token()}"}
    seen: list[tuple[float, str, int, float]] = []  # (start, kind, status or -1, seconds)
    accepted: dict[str, str] = {}
    stop = {"flag": False}
    counter = iter(range(10_000))

    def client_loop():
        with httpx.Client(base_url=stack.api_url, headers=headers, timeout=15) as c:
            while not stop["flag"]:
                case_id = str(74_000_000 + next(counter))
                for kind in ("post", "get"):
                    t0 = time.monotonic()
                    try:
                        if kind == "post":
                            r = c.post(f"/api/dagster/cases/{case_id}/extract")
                        else:
                            r = c.get(f"/api/dagster/status/{case_id}")
                        code = r.status_code
                        record(f"{kind} {case_id}", r)
                        if kind == "post" and code == 202:
                            accepted[case_id] = r.json()["request_id"]
                    except httpx.HTTPError as exc:
                        code = -1
                        kind = type(exc).__name__
                    seen.append((t0, kind, code, time.monotonic() - t0))
                time.sleep(1.0)  # ~3 triggers/s: the promise is about the outage, not throughput

    def poll_loop():
        # Status reads of their own, so the outage always has some (a trigger client spends it
        # waiting for its POST).
        with httpx.Client(base_url=stack.api_url, headers=headers, timeout=15) as c:
            while not stop["flag"]:
                t0 = time.monotonic()
                try:
                    r = c.get("/api/dagster/status/74000000")
                    code, kind = r.status_code, "get"
                    record("get status 74000000", r)
                except httpx.HTTPError as exc:
                    code, kind = -1, type(exc).__name__
                seen.append((t0, kind, code, time.monotonic() - t0))
                time.sleep(0.5)

    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(client_loop) for _ in range(3)] + [pool.submit(poll_loop) for _ in range(2)]
        try:
            time.sleep(4)
            down_at = time.monotonic()
            stack.stop_app_postgres()
            time.sleep(10)
            stack.start_app_postgres()
            up_at = time.monotonic()
            time.sleep(12)
        finally:
            stop["flag"] = True  # the load stops whatever happened above (else the pool never joins)
        for f in futures:
            f.result()
    during = Counter(code for t, kind, code, _ in seen if kind == "post" and down_at + 0.5 < t < up_at - 0.5)
    during_get = Counter(code for t, kind, code, _ in seen if kind == "get" and down_at + 0.5 < t < up_at - 0.5)
    after = Counter(code for t, kind, code, _ in seen if kind == "post" and t > up_at + 8)
    slowest = max(d for *_, d in seen)
    print(f"\n(c) answers while Postgres was down: triggers {dict(during)}, status reads {dict(during_get)};"
          f" 8 s after it came back: {dict(after)}; accepted {len(accepted)}; slowest answer {slowest:.1f}s")
    # No hang: the pool waits at most 5 s for a connection (then 503), plus the connect timeout.
    assert slowest < 12, f"an answer took {slowest:.1f}s"
    assert during and set(during) <= {503}, f"triggers while the database was down: {dict(during)} (503 only)"
    assert during_get and set(during_get) <= {503}, \
        f"status reads while the database was down: {dict(during_get)} (503 only)"
    assert after and set(after) == {202}, f"the API did not recover by itself: {dict(after)}"
    assert httpx.get(f"{stack.api_url}/readyz", timeout=5).status_code == 200
    state = wait_terminal(stack, list(accepted.values()), timeout=240)
    reasons = [(rid, s) for rid, s in state.items() if s["status"] != "complete" and not plain_reason(s["error"])]
    assert reasons == [], f"accepted requests final without a plain reason: {reasons[:5]}"
    print(f"(c) accepted requests: {dict(Counter(s['status'] for s in state.values()))}")


def test_z_no_secret_in_any_log_or_response(stack):
    """After every scenario (the issue: "after the whole suite"): none of the stack's secrets (JWT
    secret, TiParser key, CaseHelper password) nor a bearer token used (nor its signature alone)
    appears in a response the clients got, in any log file the stack wrote (API, `dagster dev`,
    run compute logs, Postgres, the API's JSON app.log), in Dagster's event log and run storage, or
    in the app tables whose text the API shows (request errors, source states, alerts)."""
    from backend.app.logging_config import LOG_DIR
    from tests.reliability.stack import CASEHELPER_PASSWORD, JWT_SECRET, TIPARSER_KEY

    headers = {"Authorization": f"Bearer {token()}"}
    for path in ("/health", "/readyz", "/api/dagster/health", "/api/dagster/status/4000403",
                 "/api/dagster/status/71000000", "/api/dagster/status/4000206"):
        record(f"GET {path}", httpx.get(f"{stack.api_url}{path}", headers=headers, timeout=10))
    secrets = {"JWT secret": JWT_SECRET, "TiParser key": TIPARSER_KEY, "CaseHelper password": CASEHELPER_PASSWORD}
    for i, t in enumerate(sorted(TOKENS)):
        secrets[f"bearer token {i}"] = t
        secrets[f"bearer token {i} signature"] = t.rsplit(".", 1)[-1]
    texts = {f"response {label} ({status})": text for label, status, text in RESPONSES}
    logs = [p for p in stack.root.rglob("*") if p.is_file() and (
        not p.is_relative_to(stack.root / "pg-app") and not p.is_relative_to(stack.root / "pg-dagster")
        or p.suffix == ".log" or "log" in p.parent.name)]
    logs += [p for p in LOG_DIR.glob("app.log*") if p.is_file()]
    for path in logs:
        texts[str(path)] = path.read_bytes().decode(errors="replace")
    with psycopg.connect(stack.dagster_db_url) as conn:
        texts["Dagster event_logs"] = "\n".join(r[0] for r in conn.execute("SELECT event FROM event_logs"))
        texts["Dagster runs"] = "\n".join(r[0] for r in conn.execute("SELECT run_body FROM runs"))
    with stack.db() as conn:
        for table in ("extraction_requests", "case_ingestion_status", "pipeline_alerts", "transformation_errors"):
            texts[f"table {table}"] = "\n".join(r[0] for r in conn.execute(f"SELECT t::text FROM public.{table} t"))
    print(f"\n(z) searched {len(RESPONSES)} responses, {len(logs)} log files "
          f"({sum(len(t) for t in texts.values()) // 1024} KiB in all) for {len(secrets)} secrets")
    assert len(RESPONSES) > 100 and any(p.name == "api.log" for p in logs), "nothing captured to search"
    leaks = find_secrets(texts, secrets)
    assert leaks == [], "secrets leaked:\n" + "\n".join(leaks[:20])
