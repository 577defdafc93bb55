"""Pieces both sandbox services share: call counters, delays, fault responses, admin routes."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from sandbox.data import CaseBehaviour
from sandbox.settings import Settings

# Invalid JSON served by the "malformed" fault: looks like the start of a real body.
MALFORMED_BODY = (
    b'{"at_records": [{"tax_year": "2021", "account_balance": 4210.55,, "transactions": [{"code": 150'
)


class Runtime:
    """Per-process state of one service: call counts per (case_id, endpoint) and the cold-start flag."""

    def __init__(self, settings: Settings, service: str) -> None:
        self.settings = settings
        self.service = service  # "tiparser" | "casehelper"
        self.calls: Counter[tuple[str, str]] = Counter()
        self.cold = True

    def reset(self) -> None:
        self.calls.clear()
        self.cold = True  # re-arm the cold start so it can be tested after a reset

    def count(self, case_id: str, endpoint: str) -> int:
        """Record one call; returns its 1-based number, which drives 'first N calls fail'."""
        self.calls[(case_id, endpoint)] += 1
        return self.calls[(case_id, endpoint)]

    async def delay(self) -> None:
        seconds = self.settings.latency_seconds
        if self.cold:
            self.cold = False
            seconds += self.settings.cold_start_seconds
        if seconds > 0:
            await asyncio.sleep(seconds)  # async: concurrent calls overlap, as on the real host

    def fault_for(self, beh: CaseBehaviour) -> str | None:
        per_case = beh.tiparser_fault if self.service == "tiparser" else beh.casehelper_fault
        return per_case or self.settings.fault or None

    def calls_report(self) -> dict[str, Any]:
        by_case: dict[str, dict[str, int]] = {}
        for (case_id, endpoint), n in sorted(self.calls.items()):
            by_case.setdefault(case_id, {})[endpoint] = n
        return {"service": self.service, "total": sum(self.calls.values()), "calls": by_case}


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)


async def fault_response(runtime: Runtime, fault: str | None, n: int, not_found: str) -> Response | None:
    """The early answer a fault gives on call number n, or None to go on normally.

    "405", "truncated" and "malformed" are handled by the caller (they need the method / body)."""
    if fault == "403":
        return error(403, "Invalid or expired API Key")
    if fault == "401" and n == 1:
        return error(401, "Authentication required.")
    if fault == "404":
        return error(404, not_found)
    if fault == "429" and n <= 2:
        return error(429, "Rate limit exceeded. Retry later.", headers={"Retry-After": "1"})
    if (fault == "500" and n <= 2) or fault == "500-always":
        return error(500, "Internal server error: upstream case system request failed")
    if fault == "slow" and n == 1:
        await asyncio.sleep(runtime.settings.slow_seconds)
    return None


def json_body(body: Any, fault: str | None) -> Response:
    """A 200 JSON answer, or the broken variants the truncated/malformed faults serve."""
    raw = json.dumps(body).encode()
    if fault == "truncated":
        raw = raw[: len(raw) // 2]
    elif fault == "malformed":
        raw = MALFORMED_BODY
    return Response(content=raw, media_type="application/json")


def admin_router(runtime: Runtime, on_reset=None, on_expire=None) -> APIRouter:
    """/__sandbox__/ routes (no key): reset counters and sessions, read counters, expire sessions."""
    router = APIRouter(prefix="/__sandbox__", tags=["sandbox-admin"])

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        runtime.reset()
        if on_reset:
            on_reset()
        return {"status": "reset", "service": runtime.service}

    @router.get("/calls")
    async def calls() -> dict[str, Any]:
        return runtime.calls_report()

    @router.post("/expire-sessions")
    async def expire_sessions() -> dict[str, Any]:
        expired = on_expire() if on_expire else 0
        return {"status": "expired", "sessions": expired}

    @router.get("/cases")
    async def cases() -> dict[str, Any]:
        from sandbox.data import BEHAVIOURS

        return {"cases": [vars(b) for b in BEHAVIOURS.values()]}

    return router
