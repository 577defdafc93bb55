"""JSON-line logs to stdout and to a rotating backend/logs/app.log.

Every line carries the request id, case id and Dagster run id of the request it belongs to
(from context variables set by the request middleware and the routes). Secrets are masked:
bearer tokens, JWT-looking strings and the configured secret values never reach a log line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import re
import sys
import time
from pathlib import Path
from typing import Any

from backend.app.config import DEFAULT_LOG_FILE, Settings

LOG_FILE = DEFAULT_LOG_FILE
LOG_DIR = LOG_FILE.parent

# One mutable dict per request: the middleware creates it, routes (also in worker threads,
# which get a copy of the context pointing at the same dict) fill in case_id / run_id.
_request_ctx: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("request_ctx", default=None)

_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
_secrets: set[str] = set()


def new_request_context(**fields: Any) -> dict[str, Any]:
    ctx = {"request_id": None, "case_id": None, "run_id": None, **fields}
    _request_ctx.set(ctx)
    return ctx


def request_context() -> dict[str, Any]:
    ctx = _request_ctx.get()
    return ctx if ctx is not None else {}


def bind(**fields: Any) -> None:
    """Attach fields (case_id, run_id, request_id) to the current request's log lines."""
    ctx = _request_ctx.get()
    if ctx is None:
        ctx = new_request_context()
    ctx.update({k: v for k, v in fields.items() if v is not None})


def redact(text: str) -> str:
    text = _BEARER_RE.sub(r"\1[redacted]", text)
    text = _JWT_RE.sub("[redacted-jwt]", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


class JsonFormatter(logging.Formatter):
    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        # Formatted once per record: stdout and the file handler share the line.
        cached = record.__dict__.get("_medallion_json")
        if cached is not None:
            return cached
        line = self._format(record)
        record.__dict__["_medallion_json"] = line
        return line

    def _format(self, record: logging.LogRecord) -> str:
        ctx = request_context()
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "request_id": ctx.get("request_id"),
            "case_id": ctx.get("case_id"),
            "run_id": ctx.get("run_id"),
        }
        for key, value in record.__dict__.items():
            if key not in self._skip and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


_configured = False


def configure_logging(settings: Settings, *, log_file: Path | None = LOG_FILE) -> None:
    """Idempotent: the app factory may run more than once (tests)."""
    global _configured
    for value in (settings.supabase_jwt_secret, settings.tiparser_api_key, settings.casehelper_password,
                  settings.casehelper_api_key, settings.supabase_service_role_key):
        if value and len(value) >= 6:
            _secrets.add(value)
    if _configured:
        return
    formatter = JsonFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=10 * 1024 * 1024,
                                                             backupCount=5, encoding="utf-8"))
    app_logger = logging.getLogger("medallion")
    app_logger.handlers.clear()
    for handler in handlers:
        handler.setFormatter(formatter)
        app_logger.addHandler(handler)
    app_logger.setLevel(settings.log_level.upper())
    app_logger.propagate = False
    # uvicorn's own access log duplicates ours (and is not JSON): keep it quiet.
    logging.getLogger("uvicorn.access").disabled = True
    _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"medallion.{name}")
