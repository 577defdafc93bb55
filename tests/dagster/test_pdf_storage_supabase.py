"""SupabasePdfStorage through the real supabase-py client, against a local stand-in for the
Supabase Storage HTTP API.

Supabase Storage cannot run on this machine (no Supabase project, no container images), so this
is the one place the project fakes an upstream: a small HTTP server that speaks the three calls
the PDF archive makes (upload, object info, and the errors Storage returns). It checks what we
send (bucket, content-addressed path, service key, upsert, content type) and how we read the
answers (a missing object is "not there"; a bad key is an error, never "not there").
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dagster_pipeline.resources.supabase_resource import SupabasePdfStorage

SERVICE_KEY = "test-service-role-key"
BUCKET = "case-pdfs"


class _FakeStorage(BaseHTTPRequestHandler):
    objects: dict[str, bytes] = {}
    requests: list[dict] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _answer(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {SERVICE_KEY}" and self.headers.get("apikey") == SERVICE_KEY:
            return True
        self._answer(400, {"statusCode": "403", "error": "Unauthorized", "message": "invalid signature"})
        return False

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
        if not self._authorised():
            return
        m = re.fullmatch(r"/storage/v1/object/([^/]+)/(.+)", self.path)
        if not m or m.group(1) != BUCKET:
            self._answer(400, {"statusCode": "404", "error": "Bucket not found", "message": "Bucket not found"})
            return
        key = f"{m.group(1)}/{m.group(2)}"
        if key in self.objects and self.headers.get("x-upsert") != "true":
            self._answer(400, {"statusCode": "409", "error": "Duplicate", "message": "The resource already exists"})
            return
        self.objects[key] = body
        self._answer(200, {"Key": key, "Id": "1"})

    def do_GET(self):  # noqa: N802
        self.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
        if not self._authorised():
            return
        m = re.fullmatch(r"/storage/v1/object/info/([^/]+)/(.+)", self.path)
        key = f"{m.group(1)}/{m.group(2)}" if m else ""
        if key in self.objects:
            self._answer(200, {"name": m.group(2), "size": len(self.objects[key])})
        else:
            self._answer(404, {"statusCode": "404", "error": "not_found", "message": "Object not found"})


@pytest.fixture()
def storage_url():
    _FakeStorage.objects = {}
    _FakeStorage.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeStorage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_upload_is_content_addressed_in_the_private_bucket(storage_url):
    storage = SupabasePdfStorage(storage_url, SERVICE_KEY, BUCKET)
    path = "at-transcripts/1295022/" + "ab" * 32 + ".pdf"
    assert storage.exists(path) is False
    assert storage.put(path, b"%PDF-1.7 one") == path
    assert storage.exists(path) is True
    upload = next(r for r in _FakeStorage.requests if r["method"] == "POST")
    assert upload["path"] == f"/storage/v1/object/{BUCKET}/{path}"
    assert upload["headers"]["x-upsert"] == "true"
    assert b"application/pdf" in upload["body"] and b"%PDF-1.7 one" in upload["body"]
    assert _FakeStorage.objects[f"{BUCKET}/{path}"] == upload["body"]


def test_storing_the_same_pdf_again_is_not_an_error(storage_url):
    storage = SupabasePdfStorage(storage_url, SERVICE_KEY, BUCKET)
    path = "wi-transcripts/1295022/" + "cd" * 32 + ".pdf"
    storage.put(path, b"%PDF same")
    storage.put(path, b"%PDF same")  # a retried step re-sends it: upsert, no 409
    assert len([k for k in _FakeStorage.objects if k.endswith(path)]) == 1


def test_a_wrong_key_raises_instead_of_reading_as_missing(storage_url):
    storage = SupabasePdfStorage(storage_url, "wrong-key", BUCKET)
    with pytest.raises(Exception, match="invalid signature"):
        storage.exists("at-transcripts/1/x.pdf")
    with pytest.raises(Exception, match="invalid signature"):
        storage.put("at-transcripts/1/x.pdf", b"%PDF")
    assert _FakeStorage.objects == {}
