"""Sandbox configuration, read from SANDBOX_* environment variables (all have local defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass

# The fault names SANDBOX_FAULT (and the behaviour table) understand; see sandbox/README.md.
FAULTS = ("403", "401", "404", "429", "500", "500-always", "slow", "405", "truncated", "malformed")


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    tiparser_api_key: str = "sandbox-tiparser-key"
    # Credentials TiParser's own POST /auth/login accepts (stand-in for the Logiqs login).
    tiparser_username: str = "sandbox-user"
    tiparser_password: str = "sandbox-password"
    casehelper_username: str = "sandbox-user"
    casehelper_password: str = "sandbox-password"
    casehelper_app_type: str = "transcript_pipeline"
    casehelper_api_key: str = ""  # empty = X-API-Key not checked
    latency_seconds: float = 0.0
    cold_start_seconds: float = 0.0
    slow_seconds: float = 5.0
    fault: str = ""  # global fault applied to every case ("" = none)
    session_ttl_seconds: float = 3600.0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        fault = env("SANDBOX_FAULT", "").strip().lower()
        if fault and fault not in FAULTS:
            raise ValueError(f"SANDBOX_FAULT={fault!r} is not one of {', '.join(FAULTS)}")
        return cls(
            tiparser_api_key=env("SANDBOX_TIPARSER_API_KEY", cls.tiparser_api_key),
            tiparser_username=env("SANDBOX_TIPARSER_USERNAME", cls.tiparser_username),
            tiparser_password=env("SANDBOX_TIPARSER_PASSWORD", cls.tiparser_password),
            casehelper_username=env("SANDBOX_CASEHELPER_USERNAME", cls.casehelper_username),
            casehelper_password=env("SANDBOX_CASEHELPER_PASSWORD", cls.casehelper_password),
            casehelper_app_type=env("SANDBOX_CASEHELPER_APP_TYPE", cls.casehelper_app_type),
            casehelper_api_key=env("SANDBOX_CASEHELPER_API_KEY", cls.casehelper_api_key),
            latency_seconds=_float("SANDBOX_LATENCY_SECONDS", cls.latency_seconds),
            cold_start_seconds=_float("SANDBOX_COLD_START_SECONDS", cls.cold_start_seconds),
            slow_seconds=_float("SANDBOX_SLOW_SECONDS", cls.slow_seconds),
            fault=fault,
            session_ttl_seconds=_float("SANDBOX_SESSION_TTL_SECONDS", cls.session_ttl_seconds),
        )
