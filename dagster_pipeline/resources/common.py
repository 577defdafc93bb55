"""What every upstream client shares: the fetch result, the error classes, the backoff maths."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Any, Literal

FetchStatus = Literal["ok", "no_data"]


@dataclass(frozen=True)
class FetchResult:
    """One upstream answer. `no_data` is a 404: the upstream has nothing for this case/source."""

    status: FetchStatus
    payload: dict[str, Any] | list[Any] | None
    http_status: int
    attempts: int = 1
    elapsed_s: float = 0.0
    url: str = ""
    size_bytes: int = 0


class UpstreamError(RuntimeError):
    """Base class. `retryable` tells the orchestration whether a later attempt can help."""

    retryable = False

    def __init__(self, message: str, *, http_status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.attempts = attempts


class UpstreamAuthError(UpstreamError):
    """Our credentials are refused (TiParser 403, CaseHelper login refused). Never retried."""


class UpstreamUnavailable(UpstreamError):
    """429 / 5xx / timeouts / connection errors, still failing after every attempt."""

    retryable = True


class MalformedPayload(UpstreamError):
    """A 2xx answer whose body is not valid JSON. The body is kept for bronze_rejected_payloads."""

    def __init__(self, message: str, *, body_text: str, http_status: int | None, attempts: int = 1) -> None:
        super().__init__(message, http_status=http_status, attempts=attempts)
        self.body_text = body_text


class UpstreamRequestError(UpstreamError):
    """Any other non-2xx answer (400, 422, ...): a bug or contract change, not retried."""


def backoff_delay(attempt: int, base: float, cap: float = 30.0, retry_after: str | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt counts from 1).

    Retry-After (seconds or an HTTP date) wins when present; otherwise exponential backoff with
    full jitter: uniform(0, min(cap, base * 2**(attempt-1))), floored at base/4 so a retry is
    never instantaneous."""
    if retry_after:
        seconds = _parse_retry_after(retry_after)
        if seconds is not None:
            return min(max(seconds, 0.0), cap)
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return max(base / 4, random.uniform(0, ceiling))  # noqa: S311 - jitter, not crypto


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


def describe_status(status: int) -> str:
    if status == 429:
        return "429 rate limited"
    if status >= 500:
        return f"{status} server error"
    if status == 401:
        return "401 session expired"
    return str(status)
