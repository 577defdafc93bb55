"""Each upstream client caps the calls it has in flight (its HTTP pool size): a backlog worked by
one run cannot open more than that many concurrent calls to TiParser or CaseHelper."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dagster_pipeline.resources.casehelper_resource import CaseHelperClient
from dagster_pipeline.resources.tiparser_resource import TiParserClient


class _Upstream(BaseHTTPRequestHandler):
    """Answers both contracts slowly and records the most requests it ever had in flight."""

    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def _serve(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
        try:
            time.sleep(0.2)
            if self.path.startswith("/v2/auth/login"):
                body = {"cookies": {"session": "abc"}}
            elif "/interview" in self.path:
                body = {"employment": {}}
            else:
                body = {"at_records": []}
            data = json.dumps(body).encode()
        finally:
            # counted out before answering: once the client has the answer it may send its next
            # call, and that one must not find this one still counted (a 4th of 3, CI flake)
            with cls.lock:
                cls.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, *_args) -> None:  # keep test output quiet
        pass


@pytest.fixture
def upstream():
    _Upstream.in_flight = _Upstream.peak = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_tiparser_client_never_has_more_calls_in_flight_than_its_limit(upstream):
    client = TiParserClient(upstream, "key", max_connections=3)
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda i: client.fetch("at", str(1000 + i)), range(12)))
    client.close()
    assert all(r.status == "ok" for r in results)
    assert _Upstream.peak == 3  # reached, never exceeded


def test_casehelper_client_never_has_more_calls_in_flight_than_its_limit(upstream):
    client = CaseHelperClient(upstream, "user", "pw", "transcript_pipeline", max_connections=2)
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: client.fetch_interview(str(2000 + i)), range(10)))
    client.close()
    assert all(r.status == "ok" for r in results)
    assert _Upstream.peak == 2
