"""FastAPI app factory. Routers are included here as they land."""

from __future__ import annotations

from fastapi import FastAPI

from backend.app.config import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Medallion API", version="0.1.0")

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Process is up (no dependencies checked)."""
        return {"status": "ok", "environment": settings.environment}

    return app


app = create_app()
