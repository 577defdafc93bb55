"""CaseHelper (the interview), upstream-apis.md §3.

Login: POST /v2/auth/login with {"credentials": {username, password, appType}}; the JSON body's
`cookies` object becomes the Cookie header (empty values skipped). The session is shared by
every thread and case of the process and renewed after `session_ttl` seconds or on a 401
(once per call). 404 on the interview = the case has no interview (no_data, not an error).
429 / 5xx / timeouts / connection errors are retried with backoff like TiParser.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

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

__all__ = ["CaseHelperClient", "CaseHelperResource", "FetchResult"]

log = logging.getLogger(__name__)

LOGIN_REFUSED_MESSAGE = "CaseHelper login refused: check CASEHELPER_USERNAME and CASEHELPER_PASSWORD"
API_KEY_MESSAGE = "CaseHelper API key refused: update CASEHELPER_API_KEY"
_RETRY_STATUSES = {429, 500, 502, 503, 504}


class CaseHelperClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        app_type: str,
        api_key: str | None = None,
        timeout: float = 60,
        *,
        connect_timeout: float = 5.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        session_ttl: float = 3600.0,
        max_connections: int = 32,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password, "appType": app_type}
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.session_ttl = session_ttl
        headers = {"accept": "application/json", "Content-Type": "application/json"}
        if api_key:
            headers["X-API-Key"] = api_key
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        self._lock = threading.Lock()
        self._cookie: str | None = None
        self._cookie_expires = 0.0
        self.logins = 0  # how many times this client logged in (observability, tests)

    def close(self) -> None:
        self._http.close()

    # -- session ---------------------------------------------------------------------------
    def _session_cookie(self, stale: str | None = None) -> str:
        """The current Cookie header; logs in when there is none, it expired, or it is `stale`."""
        with self._lock:
            if self._cookie and time.monotonic() < self._cookie_expires and self._cookie != stale:
                return self._cookie
            if stale is not None and self._cookie not in (None, stale):
                return self._cookie  # another thread already renewed it
            response = self._send("POST", "/v2/auth/login", "login", json={"credentials": self._credentials})
            if response.status_code in (401, 400):
                raise UpstreamAuthError(LOGIN_REFUSED_MESSAGE, http_status=response.status_code)
            if response.status_code == 403:
                raise UpstreamAuthError(API_KEY_MESSAGE, http_status=403)
            if response.status_code >= 300:
                raise UpstreamRequestError(
                    f"CaseHelper login answered {response.status_code}", http_status=response.status_code
                )
            try:
                cookies = response.json().get("cookies") or {}
            except (ValueError, AttributeError):
                cookies = {}
            if not cookies:  # variant B: Set-Cookie headers
                cookies = dict(response.cookies)
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items() if v not in (None, ""))
            if not cookie:
                raise UpstreamRequestError(
                    "CaseHelper login answered without session cookies", http_status=response.status_code
                )
            self._cookie, self._cookie_expires = cookie, time.monotonic() + self.session_ttl
            self.logins += 1
            return cookie

    # -- public API ------------------------------------------------------------------------
    def fetch_interview(self, case_id: str) -> FetchResult:
        path = f"/api/cases/{case_id}/interview"
        started = time.monotonic()
        response, attempts = self._authed("GET", path, f"interview of case {case_id}")
        elapsed = time.monotonic() - started
        if response.status_code == 404:
            return FetchResult("no_data", None, 404, attempts, elapsed, path)
        try:
            payload = response.json()
        except ValueError as exc:
            raise MalformedPayload(
                f"CaseHelper interview of case {case_id} answered {response.status_code} with a body that is "
                f"not valid JSON ({len(response.content)} bytes: {exc})",
                body_text=response.text,
                http_status=response.status_code,
                attempts=attempts,
            ) from None
        return FetchResult(
            "ok", payload, response.status_code, attempts, elapsed, path, len(response.content)
        )

    def walk_documents(self, case_id: str) -> list[dict[str, Any]]:
        response, _ = self._authed("GET", f"/v2/blobs/{case_id}/walk", f"document list of case {case_id}")
        if response.status_code == 404:
            return []
        body = response.json()
        return list(body.get("data", []) if isinstance(body, dict) else body)

    def download_document(self, case_id: str, entry: dict[str, Any]) -> bytes | None:
        response, _ = self._authed(
            "POST",
            f"/v2/blobs/{case_id}/download",
            f"document of case {case_id}",
            json={"status": 200, "data": [entry]},
            accept="application/pdf",
        )
        return None if response.status_code == 404 else response.content

    # -- plumbing --------------------------------------------------------------------------
    def _authed(
        self, method: str, path: str, what: str, *, json: Any = None, accept: str | None = None
    ) -> tuple[httpx.Response, int]:
        """A call with the session cookie; one re-login on 401; 2xx or 404 returned, else raises."""
        cookie = self._session_cookie()
        relogged = False
        attempt = 0
        last_problem = ""
        while True:
            attempt += 1
            headers = {"Cookie": cookie}
            if accept:
                headers["accept"] = accept
            retry_after = None
            try:
                response = self._http.request(method, path, headers=headers, json=json)
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"connection error ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if status < 300 or status == 404:
                    return response, attempt
                if status == 401 and not relogged:
                    relogged = True
                    cookie = self._session_cookie(stale=cookie)
                    attempt -= 1
                    continue
                if status == 401:
                    raise UpstreamAuthError(
                        f"CaseHelper refused the session for the {what} right after a fresh login",
                        http_status=401,
                        attempts=attempt,
                    )
                if status == 403:
                    raise UpstreamAuthError(API_KEY_MESSAGE, http_status=403, attempts=attempt)
                if status not in _RETRY_STATUSES:
                    raise UpstreamRequestError(
                        f"CaseHelper {what} answered {status}: {response.text[:200]}",
                        http_status=status,
                        attempts=attempt,
                    )
                last_problem = f"{describe_status(status)}: {response.text[:200]}"
                retry_after = response.headers.get("Retry-After") if status in (429, 503) else None
            if attempt > self.max_retries:
                raise UpstreamUnavailable(
                    f"CaseHelper {what} still failing after {attempt} attempts; last: {last_problem}",
                    attempts=attempt,
                )
            delay = backoff_delay(attempt, self.backoff_base, retry_after=retry_after)
            log.warning(
                "CaseHelper %s: %s; retry %d/%d in %.2fs",
                what,
                last_problem,
                attempt,
                self.max_retries,
                delay,
            )
            time.sleep(delay)

    def _send(self, method: str, path: str, what: str, *, json: Any = None) -> httpx.Response:
        """Unauthenticated call (login) with the transient-error retries."""
        attempt = 0
        while True:
            attempt += 1
            retry_after = None
            try:
                response = self._http.request(method, path, json=json)
                if response.status_code not in _RETRY_STATUSES:
                    return response
                last_problem = describe_status(response.status_code)
                retry_after = response.headers.get("Retry-After")
            except httpx.TimeoutException:
                last_problem = "timed out"
            except httpx.TransportError as exc:
                last_problem = f"connection error ({type(exc).__name__}: {exc})"
            if attempt > self.max_retries:
                raise UpstreamUnavailable(
                    f"CaseHelper {what} still failing after {attempt} attempts; last: {last_problem}",
                    attempts=attempt,
                )
            time.sleep(backoff_delay(attempt, self.backoff_base, retry_after=retry_after))


class CaseHelperResource(dg.ConfigurableResource):
    base_url: str
    username: str
    password: str
    app_type: str = "transcript_pipeline"
    api_key: str | None = None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 4
    backoff_base: float = 0.5
    # Calls in flight at once from this process (the HTTP pool size; further calls wait for a slot).
    max_connections: int = 8

    _client: CaseHelperClient | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def get_client(self) -> CaseHelperClient:
        with self._lock:
            if self._client is None:
                self._client = CaseHelperClient(
                    self.base_url,
                    self.username,
                    self.password,
                    self.app_type,
                    self.api_key or None,
                    self.timeout,
                    connect_timeout=self.connect_timeout,
                    max_retries=self.max_retries,
                    backoff_base=self.backoff_base,
                    max_connections=self.max_connections,
                )
            return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
