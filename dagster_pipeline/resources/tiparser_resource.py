"""TiParser (AT / WI / TRT analysis, transcript listings and PDFs): one client, one resource.

Behaviour (../shared/reference/upstream-apis.md §2):
  * `x-api-key` on every call; explicit connect and read timeouts;
  * 429 (honouring Retry-After), 5xx, timeouts and connection errors: retried with exponential
    backoff and full jitter, then `UpstreamUnavailable` saying what failed and how often;
  * 401: TiParser's own Logiqs session expired; it logs in again by itself, so retried;
  * 403: our key is refused -> `UpstreamAuthError`, at once, never retried;
  * 404: "no data for this source" (TRT is often absent) -> FetchResult(status="no_data");
  * 405: the same URL again as POST with `{}`;
  * a 2xx body that is not JSON -> `MalformedPayload` carrying the body (kept in bronze).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Literal

import dagster as dg
import httpx
from pydantic import PrivateAttr

from dagster_pipeline.resources.common import (
    FetchResult,
    MalformedPayload,
    UpstreamAuthError,
    UpstreamRequestError,
    UpstreamUnavailable,
    backoff_delay,
    describe_status,
)

__all__ = [
    "TIPARSER_KEY_MESSAGE",
    "FetchResult",
    "MalformedPayload",
    "TiParserClient",
    "TiParserResource",
    "UpstreamAuthError",
    "UpstreamUnavailable",
]

log = logging.getLogger(__name__)

TIPARSER_KEY_MESSAGE = "TiParser API key invalid or expired: update TIPARSER_API_KEY"
TiParserSource = Literal["at", "wi", "trt"]
_RETRY_STATUSES = {401, 429, 500, 502, 503, 504}


class TiParserClient:
    """Thread-safe (one httpx.Client with a connection pool, shared by every thread)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        connect_timeout: float = 5,
        read_timeout: float = 120,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        max_connections: int = 32,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"x-api-key": api_key, "Content-Type": "application/json", "accept": "application/json"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TiParserClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------------------
    def fetch(self, source: TiParserSource, case_id: str) -> FetchResult:
        """GET /analysis/{source}/{case_id} -> parsed JSON (or no_data on 404)."""
        if source not in ("at", "wi", "trt"):
            raise ValueError(f"unknown TiParser source {source!r}")
        path = f"/analysis/{source}/{case_id}"
        started = time.monotonic()
        response, attempts = self._request(path, f"{source.upper()} for case {case_id}", allow_post=True)
        elapsed = time.monotonic() - started
        if response is None:
            return FetchResult("no_data", None, 404, attempts, elapsed, path)
        try:
            payload = response.json()
        except ValueError as exc:
            raise MalformedPayload(
                f"TiParser {source.upper()} for case {case_id} answered {response.status_code} with a body "
                f"that is not valid JSON ({len(response.content)} bytes: {exc})",
                body_text=response.text,
                http_status=response.status_code,
                attempts=attempts,
            ) from None
        return FetchResult(
            "ok", payload, response.status_code, attempts, elapsed, path, len(response.content)
        )

    def list_transcripts(self, kind: Literal["at", "wi"], case_id: str) -> list[dict[str, Any]]:
        """The transcript PDFs TiParser holds for a case ([] when it has none)."""
        response, _ = self._request(
            f"/transcripts/{kind}/{case_id}", f"{kind.upper()} file list of {case_id}"
        )
        if response is None:
            return []
        try:
            body = response.json()
        except ValueError:
            raise MalformedPayload(
                f"TiParser {kind.upper()} file list of case {case_id} is not valid JSON",
                body_text=response.text,
                http_status=response.status_code,
            ) from None
        files = body.get("files", []) if isinstance(body, dict) else body
        out = []
        for entry in files or []:
            if not isinstance(entry, dict):
                continue
            doc_id = entry.get("case_document_id") or entry.get("id") or entry.get("document_id")
            if doc_id is None:
                continue
            out.append(
                {
                    **entry,
                    "case_document_id": str(doc_id),
                    "filename": entry.get("filename")
                    or entry.get("file_name")
                    or f"{kind.upper()}_{doc_id}.pdf",
                }
            )
        return out

    def download_pdf(self, kind: Literal["at", "wi"], case_id: str, doc_id: str) -> bytes | None:
        """Raw PDF bytes, or None when TiParser says the file is missing or empty (404)."""
        response, _ = self._request(
            f"/transcripts/download/{kind}/{case_id}/{doc_id}",
            f"{kind.upper()} PDF {doc_id} of case {case_id}",
        )
        return None if response is None else response.content

    # -- the retry loop --------------------------------------------------------------------
    def _request(
        self, path: str, what: str, *, allow_post: bool = False
    ) -> tuple[httpx.Response | None, int]:
        """Returns (response, attempts) for 2xx, (None, attempts) for 404; raises otherwise."""
        method = "GET"
        attempt = 0
        last_problem = ""
        switched_to_post = False
        while True:
            attempt += 1
            retry_after = None
            try:
                if method == "POST":
                    response = self._http.post(path, json={})
                else:
                    response = self._http.get(path)
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"connection error ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if status < 300:
                    return response, attempt
                if status == 403:
                    raise UpstreamAuthError(TIPARSER_KEY_MESSAGE, http_status=403, attempts=attempt)
                if status == 404:
                    return None, attempt
                if status == 405 and allow_post and not switched_to_post:
                    method, switched_to_post = "POST", True
                    attempt -= 1  # the method switch is not a failed attempt
                    continue
                if status not in _RETRY_STATUSES:
                    raise UpstreamRequestError(
                        f"TiParser {what} answered {status}: {_detail(response)}",
                        http_status=status,
                        attempts=attempt,
                    )
                last_problem = f"{describe_status(status)}: {_detail(response)}"
                retry_after = response.headers.get("Retry-After") if status in (429, 503) else None
            if attempt > self.max_retries:
                raise UpstreamUnavailable(
                    f"TiParser {what} still failing after {attempt} attempts; last: {last_problem}",
                    attempts=attempt,
                )
            delay = backoff_delay(attempt, self.backoff_base, retry_after=retry_after)
            log.warning(
                "TiParser %s: %s; retry %d/%d in %.2fs", what, last_problem, attempt, self.max_retries, delay
            )
            time.sleep(delay)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and "detail" in body:
            return str(body["detail"])[:200]
    except ValueError:
        pass
    return response.text[:200]


class TiParserResource(dg.ConfigurableResource):
    """Dagster resource building one shared TiParserClient per process."""

    base_url: str
    api_key: str
    connect_timeout: float = 5.0
    read_timeout: float = 120.0
    max_retries: int = 4
    backoff_base: float = 0.5
    # Calls in flight at once from this process (the HTTP pool size; further calls wait for a slot).
    max_connections: int = 16

    _client: TiParserClient | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def get_client(self) -> TiParserClient:
        with self._lock:
            if self._client is None:
                self._client = TiParserClient(
                    self.base_url,
                    self.api_key,
                    self.connect_timeout,
                    self.read_timeout,
                    self.max_retries,
                    self.backoff_base,
                    max_connections=self.max_connections,
                )
            return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
