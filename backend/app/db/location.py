"""Where the application database is: DATABASE_URL when set, else the embedded server."""

from __future__ import annotations

from backend.app.config import Settings
from backend.app.db import embedded


def resolve_database_url(settings: Settings, *, stop_on_exit: bool = True) -> str:
    if settings.database_url:
        return settings.database_url
    server_url = embedded.start(settings.embedded_pg_dir, stop_on_exit=stop_on_exit)
    return embedded.ensure_database(server_url, embedded.APP_DATABASE)
