"""Local TiParser: /analysis/{at,wi,trt}, /auth/*, /transcripts/* as upstream-apis.md §2 describes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response

from sandbox import data
from sandbox._runtime import Runtime, admin_router, error, fault_response, json_body
from sandbox.settings import Settings

CaseId = Annotated[str, Path(pattern=r"^\d{1,12}$")]
Kind = Annotated[str, Path(pattern=r"^(at|wi)$")]

_NOT_FOUND = {
    "analysis/at": "404: No AT files found for this case.",
    "analysis/wi": "404: No WI files found for this case.",
    "analysis/trt": "404: No TRT files found for this case.",
    "transcripts/at": "404: No AT files found for this case.",
    "transcripts/wi": "404: No WI files found for this case.",
    "transcripts/download/at": "PDF file not found or empty",
    "transcripts/download/wi": "PDF file not found or empty",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    runtime = Runtime(settings, "tiparser")
    login = {"logged_in": False, "cookies": {}}  # TiParser keeps its Logiqs session server-side

    def forget_login() -> int:
        was = int(login["logged_in"])
        login.update(logged_in=False, cookies={})
        return was

    app = FastAPI(title="TiParser sandbox", version="1.0")
    app.include_router(admin_router(runtime, on_reset=forget_login, on_expire=forget_login))

    def key_ok(request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("x-api-key", ""), settings.tiparser_api_key)

    async def serve(request: Request, case_id: str, endpoint: str, produce: Callable[[], Any]) -> Response:
        """Count, check the key, delay, apply the case's fault, then answer with produce()."""
        n = runtime.count(case_id, endpoint)
        if not key_ok(request):
            return error(403, "Invalid or expired API Key")
        await runtime.delay()
        fault = runtime.fault_for(data.behaviour(case_id))
        if endpoint.startswith("analysis/"):
            # Real TiParser is GET-only; the 405 case flips it (client must retry as POST with {}).
            wants = "POST" if fault == "405" else "GET"
            if request.method != wants:
                return error(405, "Method Not Allowed", headers={"Allow": wants})
        early = await fault_response(runtime, fault, n, _NOT_FOUND.get(endpoint, "Not Found"))
        if early is not None:
            return early
        body = produce()
        if body is None:
            return error(404, _NOT_FOUND.get(endpoint, "Not Found"))
        if isinstance(body, Response):
            return body
        return json_body(body, fault)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy", "service": "tiparser-sandbox"}

    @app.api_route("/analysis/at/{case_id}", methods=["GET", "POST"])
    async def analysis_at(request: Request, case_id: CaseId) -> Response:
        return await serve(request, case_id, "analysis/at", lambda: data.at_payload(case_id))

    @app.api_route("/analysis/wi/{case_id}", methods=["GET", "POST"])
    async def analysis_wi(request: Request, case_id: CaseId) -> Response:
        return await serve(request, case_id, "analysis/wi", lambda: data.wi_payload(case_id))

    @app.api_route("/analysis/trt/{case_id}", methods=["GET", "POST"])
    async def analysis_trt(request: Request, case_id: CaseId) -> Response:
        return await serve(request, case_id, "analysis/trt", lambda: data.trt_payload(case_id))

    @app.get("/transcripts/{kind}/{case_id}")
    async def transcripts(request: Request, kind: Kind, case_id: CaseId) -> Response:
        def listing() -> dict[str, Any]:
            files = data.transcript_files(case_id, kind)
            return {
                "case_id": case_id,
                "transcript_type": kind.upper(),
                "total_files": len(files),
                "files": files,
            }

        return await serve(request, case_id, f"transcripts/{kind}", listing)

    @app.get("/transcripts/download/{kind}/{case_id}/{case_document_id}")
    async def download(request: Request, kind: Kind, case_id: CaseId, case_document_id: str) -> Response:
        def pdf() -> Response | None:
            raw = data.pdf_bytes(case_id, kind, case_document_id)
            if not raw:
                return None
            name = f"{kind.upper()}_{case_id}_{case_document_id}.pdf"
            return Response(
                raw,
                media_type="application/pdf",
                headers={"Content-Disposition": f"attachment; filename={name}"},
            )

        return await serve(request, case_id, f"transcripts/download/{kind}", pdf)

    @app.post("/auth/login")
    async def auth_login(request: Request) -> Response:
        runtime.count("*", "auth/login")
        if not key_ok(request):
            return error(403, "Invalid or expired API Key")
        await runtime.delay()
        try:
            body = await request.json()
        except ValueError:
            body = {}
        creds = body.get("credentials", body) if isinstance(body, dict) else {}
        if not isinstance(creds, dict) or (creds.get("username"), creds.get("password")) != (
            settings.tiparser_username,
            settings.tiparser_password,
        ):
            return error(401, "Authentication failed: invalid username or password")
        cookies = {"ASP.NET_SessionId": secrets.token_hex(12), ".ASPXAUTH": secrets.token_hex(24)}
        login.update(logged_in=True, cookies=cookies)
        response = JSONResponse(
            {
                "message": "Authentication successful",
                "status": "success",
                "data": {"cookieCount": len(cookies), "username": creds["username"]},
            }
        )
        for name, value in cookies.items():
            response.set_cookie(name, value, httponly=True)
        return response

    @app.get("/auth/status")
    async def auth_status(request: Request) -> Response:
        runtime.count("*", "auth/status")
        if not key_ok(request):
            return error(403, "Invalid or expired API Key")
        return JSONResponse(
            {"authenticated": login["logged_in"], "cookie_count": len(login["cookies"]), "status": "success"}
        )

    @app.post("/auth/logout")
    async def auth_logout(request: Request) -> Response:
        runtime.count("*", "auth/logout")
        if not key_ok(request):
            return error(403, "Invalid or expired API Key")
        forget_login()
        return JSONResponse({"message": "Logged out", "status": "success"})

    return app


app = create_app()
