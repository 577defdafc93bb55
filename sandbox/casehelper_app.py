"""Local CaseHelper: cookie-session login, interview, blob walk/download (upstream-apis.md §3)."""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response

from sandbox import data
from sandbox._runtime import Runtime, admin_router, error, fault_response, json_body
from sandbox.settings import Settings

CaseId = Annotated[str, Path(pattern=r"^\d{1,12}$")]
SESSION_COOKIE = "casehelper_session"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, "casehelper")
    sessions: dict[str, float] = {}  # token -> monotonic expiry

    def expire_all() -> int:
        count = len(sessions)
        sessions.clear()
        return count

    app = FastAPI(title="CaseHelper sandbox", version="1.0")
    app.include_router(admin_router(runtime, on_reset=expire_all, on_expire=expire_all))

    def session_ok(request: Request) -> bool:
        expiry = sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        return expiry is not None and expiry > time.monotonic()

    def api_key_ok(request: Request) -> bool:
        if not settings.casehelper_api_key:
            return True
        return secrets.compare_digest(request.headers.get("x-api-key", ""), settings.casehelper_api_key)

    async def guard(request: Request, case_id: str, endpoint: str) -> tuple[Response | None, str | None]:
        """Count, check key and session, delay, apply the case's fault."""
        n = runtime.count(case_id, endpoint)
        if not api_key_ok(request):
            return error(403, "Invalid API key"), None
        if not session_ok(request):
            return error(401, "Not authenticated: session missing or expired"), None
        await runtime.delay()
        fault = runtime.fault_for(data.behaviour(case_id))
        not_found = "Interview not found for this case" if endpoint == "interview" else "No documents found"
        return await fault_response(runtime, fault, n, not_found), fault

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy", "service": "casehelper-sandbox"}

    @app.post("/v2/auth/login")
    async def login(request: Request) -> Response:
        runtime.count("*", "auth/login")
        if not api_key_ok(request):
            return error(403, "Invalid API key")
        await runtime.delay()
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Body must be JSON")
        # Variant A nests the credentials; variant B sends them flat. Accept both.
        creds = body.get("credentials", body) if isinstance(body, dict) else None
        if not isinstance(creds, dict):
            return error(400, "Missing credentials")
        app_type = creds.get("appType")
        if (creds.get("username"), creds.get("password")) != (
            settings.casehelper_username,
            settings.casehelper_password,
        ) or (app_type is not None and app_type != settings.casehelper_app_type):
            return error(401, "Invalid credentials")
        token = secrets.token_urlsafe(24)
        sessions[token] = time.monotonic() + settings.session_ttl_seconds
        # Clients take the cookies from the JSON body (variant A) or from Set-Cookie (variant B).
        # The empty one is deliberate: real clients must skip empty values when building Cookie.
        cookies = {SESSION_COOKIE: token, "casehelper_user": creds["username"], "remember_me": ""}
        response = JSONResponse(
            {
                "success": True,
                "message": "Login successful",
                "cookies": cookies,
                "user": {"username": creds["username"], "appType": settings.casehelper_app_type},
                "expiresIn": settings.session_ttl_seconds,
            }
        )
        for name, value in cookies.items():
            if value:
                response.set_cookie(name, value, httponly=True, max_age=int(settings.session_ttl_seconds))
        return response

    @app.get("/api/cases/{case_id}/interview")
    async def interview(request: Request, case_id: CaseId) -> Response:
        early, fault = await guard(request, case_id, "interview")
        if early is not None:
            return early
        body = data.interview_payload(case_id)
        if body is None:
            return error(404, "Interview not found for this case")
        return json_body(body, fault)

    def walk_entries(case_id: str) -> list[dict[str, Any]]:
        entries = []
        for kind in ("at", "wi"):
            for f in data.transcript_files(case_id, kind):
                entries.append(
                    {
                        "file_name": f["filename"],
                        "case_document_id": f["case_document_id"],
                        "document_type": kind.upper(),
                        "owner": f["owner"],
                        "content_type": "application/pdf",
                    }
                )
        return entries

    @app.get("/v2/blobs/{case_id}/walk")
    async def walk(request: Request, case_id: CaseId) -> Response:
        early, fault = await guard(request, case_id, "blobs/walk")
        if early is not None:
            return early
        return json_body({"status": 200, "data": walk_entries(case_id)}, fault)

    @app.post("/v2/blobs/{case_id}/download")
    async def download(request: Request, case_id: CaseId) -> Response:
        early, _ = await guard(request, case_id, "blobs/download")
        if early is not None:
            return early
        try:
            body = await request.json()
            entry = body["data"][0]
            doc_id = str(entry.get("case_document_id") or entry.get("id") or entry.get("document_id"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return error(400, 'Body must be {"status": 200, "data": [<entry from walk>]}')
        for kind in ("at", "wi"):
            raw = data.pdf_bytes(case_id, kind, doc_id)
            if raw:
                name = entry.get("file_name") or f"{kind.upper()}_{case_id}_{doc_id}.pdf"
                return Response(
                    raw,
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'},
                )
        return error(404, "PDF file not found or empty")

    return app


app = create_app()
