"""Alerts: a short message to a Slack-compatible webhook (ALERT_WEBHOOK_URL) and a row in
`pipeline_alerts` (so the API can show it). With no webhook configured the alert is logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
import psycopg

log = logging.getLogger("medallion.alerts")


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | health_check
    message: str
    severity: str = "error"
    case_id: str | None = None
    source: str | None = None
    dagster_run_id: str | None = None
    run_url: str | None = None

    def text(self) -> str:
        icon = ":rotating_light:" if self.severity == "error" else ":warning:"
        parts = [f"{icon} *Medallion {self.kind.replace('_', ' ')}*"]
        if self.case_id:
            parts.append(f"case {self.case_id}")
        if self.source:
            parts.append(f"source {self.source}")
        head = " | ".join(parts)
        link = f"\n<{self.run_url}|Open the run in Dagster>" if self.run_url else ""
        return f"{head}\n{self.message}{link}"


def deliver(alert: Alert, webhook_url: str | None, *, timeout: float = 10.0) -> tuple[bool, str | None]:
    """POST {"text": ...} to the webhook. Returns (delivered, error)."""
    if not webhook_url:
        log.warning("ALERT (no ALERT_WEBHOOK_URL configured): %s", alert.text())
        return False, "no webhook configured"
    try:
        response = httpx.post(webhook_url, json={"text": alert.text()}, timeout=timeout)
        if response.status_code >= 300:
            return False, f"webhook answered {response.status_code}: {response.text[:200]}"
        return True, None
    except httpx.HTTPError as exc:
        return False, f"webhook unreachable: {type(exc).__name__}: {exc}"


def send_alert(conn: psycopg.Connection, alert: Alert, webhook_url: str | None) -> int:
    """Deliver and record one alert; returns the pipeline_alerts id. The caller commits."""
    delivered, error = deliver(alert, webhook_url)
    if error and webhook_url:
        log.error("alert not delivered (%s): %s", error, alert.text())
    row = conn.execute(
        "INSERT INTO public.pipeline_alerts (kind, severity, case_id, source, message, dagster_run_id,"
        " run_url,"
        " delivered, delivery_error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            alert.kind,
            alert.severity,
            alert.case_id,
            alert.source,
            alert.message,
            alert.dagster_run_id,
            alert.run_url,
            delivered,
            error,
        ),
    ).fetchone()
    return int(row[0])


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"
