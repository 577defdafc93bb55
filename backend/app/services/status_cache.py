"""A short per-process cache of the status answer (`GET /api/dagster/status/{case_id}`).

Why: the status is one SQL statement, but it counts rows in 19 tables (about 1 ms of Postgres
CPU); a page of case workers polling the same case, or a dashboard, would otherwise make Postgres
the bottleneck of one API process. What it guarantees:

* An answer is at most `ttl_s` old (STATUS_CACHE_TTL_S, default 1 s, never more than 1 s), and
  the age counts from the moment its query *started*. A cached answer is a past observation, so
  it can lag the truth by up to the TTL but never claims progress that has not happened.
  `checked_at` in the body says when it was observed.
* Anything this process does to a case invalidates its entry at once: a trigger (single, body,
  bulk), the submitter thread claiming/submitting/requeueing its requests, the legacy path
  writing bronze, a case update or delete. A query that started before an invalidation is not
  stored (it may have missed the change).
* Concurrent misses for one case share one query (single flight).
* Progress made by other processes (Dagster runs writing bronze and states) shows up within
  the TTL.

`ttl_s = 0` turns it off (every poll runs the query).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

MAX_TTL_S = 1.0
MAX_ENTRIES = 10_000

Loader = Callable[[], Awaitable[Any]]


class StatusCache:
    def __init__(self, ttl_s: float = MAX_TTL_S) -> None:
        self.ttl_s = max(0.0, min(float(ttl_s), MAX_TTL_S))
        self._entries: dict[str, tuple[float, Any]] = {}  # case_id -> (expires at, monotonic; value)
        self._invalidated: dict[str, int] = {}  # case_id -> stamp of its last invalidation
        self._floor = 0  # every stamp <= floor counts as invalidated (after a purge)
        self._clock = itertools.count(1)
        self._lock = threading.Lock()  # invalidate() runs on other threads (submitter, threadpool)
        self._inflight: dict[str, tuple[int, asyncio.Task[Any]]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def invalidate(self, *case_ids: str) -> None:
        """Forget these cases now; queries already running for them will not be stored."""
        if not self.enabled:
            return
        with self._lock:
            for case_id in case_ids:
                self._invalidated[case_id] = next(self._clock)
                self._entries.pop(case_id, None)
            if len(self._invalidated) > MAX_ENTRIES:
                self._floor = next(self._clock)
                self._invalidated.clear()
                self._entries.clear()

    def clear(self) -> None:
        with self._lock:
            self._floor = next(self._clock)
            self._invalidated.clear()
            self._entries.clear()

    def _valid_after(self, case_id: str) -> int:
        return max(self._floor, self._invalidated.get(case_id, 0))

    async def get(self, case_id: str, load: Loader) -> Any:
        """The cached value for the case if fresh, else `await load()` (shared by concurrent callers)."""
        if not self.enabled:
            return await load()
        entry = self._entries.get(case_id)
        if entry is not None and entry[0] > time.monotonic():
            self.hits += 1
            return entry[1]
        flight = self._inflight.get(case_id)
        if flight is not None and flight[0] > self._valid_after(case_id):
            self.hits += 1
            return await asyncio.shield(flight[1])
        self.misses += 1
        stamp = next(self._clock)
        task = asyncio.ensure_future(self._load(case_id, stamp, load))
        task.add_done_callback(_retrieve)
        self._inflight[case_id] = (stamp, task)
        return await asyncio.shield(task)

    async def _load(self, case_id: str, stamp: int, load: Loader) -> Any:
        started = time.monotonic()
        try:
            value = await load()
        finally:
            current = self._inflight.get(case_id)
            if current is not None and current[0] == stamp:
                del self._inflight[case_id]
        with self._lock:
            if stamp > self._valid_after(case_id):
                if len(self._entries) >= MAX_ENTRIES:
                    now = time.monotonic()
                    self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                    if len(self._entries) >= MAX_ENTRIES:
                        self._entries.clear()
                self._entries[case_id] = (started + self.ttl_s, value)
        return value


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a failed load's exception as seen when the caller that started it went away."""
    if not task.cancelled():
        task.exception()
