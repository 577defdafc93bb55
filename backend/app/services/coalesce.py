"""Coalescing of concurrent calls into batches (group commit for triggers, `ANY(...)` status reads).

`Coalescer(run_batch)` collects the items submitted while a batch is in flight and hands them to
`run_batch` together, as the next batch: one statement, one round trip (and for writes one WAL
flush) for all of them instead of one each. Nothing waits on a timer: an item submitted to an
idle coalescer starts a batch on the next turn of the event loop (items submitted in the same
turn join it); under load each batch holds what arrived during the previous one.

`run_batch(items)` returns one result per item, in order; a result that is an exception is
raised to that item's caller only. If `run_batch` itself raises, every caller of that batch gets
the error (`on_error` may map it to one error per caller), and with `fail_waiting` errors (the
database is unreachable) so do the callers already waiting for the next batch, so that no caller
waits behind a queue of failing batches. A caller that goes away (cancelled)
does not cancel the batch: its item is still processed, its result dropped.

One event loop only (the API's); not thread-safe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

BatchRunner = Callable[[list[T]], Awaitable[Sequence[Any]]]


class Coalescer(Generic[T, R]):
    def __init__(self, run_batch: BatchRunner[T], *, max_batch: int = 256, max_in_flight: int = 1,
                 on_error: Callable[[BaseException], BaseException] | None = None,
                 fail_waiting: tuple[type[BaseException], ...] = ()) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be >= 1")
        self._run_batch = run_batch
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._on_error = on_error
        # A batch failing with one of these (the database is unreachable) fails the items waiting
        # for the next batch too: each caller waits for at most one failing batch, not a queue of them.
        self._fail_waiting = fail_waiting
        self._pending: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # counters (tests, benchmarks): how many batches ran and how many items they held
        self.batches = 0
        self.items = 0
        self.largest_batch = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._maybe_start()
        return await future

    def _maybe_start(self) -> None:
        if self._pending and self._in_flight < self.max_in_flight:
            self._in_flight += 1
            task = asyncio.ensure_future(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        # Runs from the next turn of the loop on: everything submitted in this turn joins the batch.
        try:
            while self._pending:
                batch: list[tuple[T, asyncio.Future[R]]] = []
                while self._pending and len(batch) < self.max_batch:
                    batch.append(self._pending.popleft())
                await self._run(batch)
        finally:
            self._in_flight -= 1
            self._maybe_start()

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            results = await self._run_batch([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch runner returned {len(results)} results for {len(batch)} items")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # every waiter of the batch gets it
            if self._fail_waiting and isinstance(exc, self._fail_waiting):
                batch.extend(self._pending)
                self._pending.clear()
            for _, future in batch:
                if not future.done():
                    future.set_exception(self._on_error(exc) if self._on_error else exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
