"""The coalescing utility behind group commit (triggers) and the batched status reads."""

from __future__ import annotations

import asyncio

import pytest

from backend.app.services.coalesce import Coalescer


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_calls_in_one_turn_form_one_batch_and_get_their_own_results() -> None:
    seen: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        seen.append(list(items))
        await asyncio.sleep(0)
        return [i * 2 for i in items]

    async def main() -> list[int]:
        c: Coalescer[int, int] = Coalescer(double)
        results = await asyncio.gather(*(c.submit(i) for i in range(10)))
        assert (c.batches, c.items, c.largest_batch) == (1, 10, 10)
        return results

    assert run(main()) == [i * 2 for i in range(10)]
    assert seen == [list(range(10))]


def test_items_arriving_during_a_batch_go_into_the_next_one() -> None:
    seen: list[list[int]] = []
    release = asyncio.Event

    async def main() -> None:
        gate = release()

        async def slow(items: list[int]) -> list[int]:
            seen.append(list(items))
            if len(seen) == 1:
                await gate.wait()
            return items

        c: Coalescer[int, int] = Coalescer(slow)
        first = asyncio.ensure_future(c.submit(0))
        await asyncio.sleep(0.01)  # batch [0] is in flight
        later = [asyncio.ensure_future(c.submit(i)) for i in range(1, 6)]
        await asyncio.sleep(0.01)
        assert seen == [[0]]  # one statement in flight at a time
        gate.set()
        assert await first == 0
        assert await asyncio.gather(*later) == [1, 2, 3, 4, 5]

    run(main())
    assert seen == [[0], [1, 2, 3, 4, 5]]


def test_max_batch_splits_batches() -> None:
    sizes: list[int] = []

    async def ident(items: list[int]) -> list[int]:
        sizes.append(len(items))
        return items

    async def main() -> list[int]:
        c: Coalescer[int, int] = Coalescer(ident, max_batch=4)
        return await asyncio.gather(*(c.submit(i) for i in range(10)))

    assert run(main()) == list(range(10))
    assert sizes == [4, 4, 2]


def test_an_exception_result_reaches_only_its_caller() -> None:
    async def some_fail(items: list[int]) -> list[object]:
        return [ValueError(f"bad {i}") if i % 3 == 0 else i for i in items]

    async def main() -> list[object]:
        c: Coalescer[int, int] = Coalescer(some_fail)
        return await asyncio.gather(*(c.submit(i) for i in range(5)), return_exceptions=True)

    results = run(main())
    assert [str(r) if isinstance(r, ValueError) else r for r in results] == ["bad 0", 1, 2, "bad 3", 4]


def test_a_failed_batch_fails_every_caller_and_the_next_batch_runs() -> None:
    calls = 0

    async def flaky(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")
        return items

    async def main() -> None:
        c: Coalescer[int, int] = Coalescer(flaky)
        results = await asyncio.gather(*(c.submit(i) for i in range(4)), return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        assert await c.submit(7) == 7

    run(main())


def test_a_wrong_number_of_results_is_an_error_for_every_caller() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    async def main() -> list[object]:
        c: Coalescer[int, int] = Coalescer(short)
        return await asyncio.gather(*(c.submit(i) for i in range(3)), return_exceptions=True)

    assert all(isinstance(r, RuntimeError) for r in run(main()))


def test_a_caller_that_goes_away_does_not_cancel_the_batch() -> None:
    processed: list[int] = []

    async def slow(items: list[int]) -> list[int]:
        await asyncio.sleep(0.02)
        processed.extend(items)
        return items

    async def main() -> int:
        c: Coalescer[int, int] = Coalescer(slow)
        gone = asyncio.ensure_future(c.submit(1))
        stays = asyncio.ensure_future(c.submit(2))
        await asyncio.sleep(0.005)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await stays

    assert run(main()) == 2
    assert processed == [1, 2]


def test_two_batches_in_flight_when_allowed() -> None:
    running = 0
    peak = 0

    async def slow(items: list[int]) -> list[int]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return items

    async def main() -> list[int]:
        c: Coalescer[int, int] = Coalescer(slow, max_in_flight=2)
        first = asyncio.ensure_future(c.submit(0))
        await asyncio.sleep(0.005)
        rest = await asyncio.gather(*(c.submit(i) for i in range(1, 4)))
        return [await first, *rest]

    assert run(main()) == [0, 1, 2, 3]
    assert peak == 2


def test_bad_limits_are_refused() -> None:
    async def ident(items: list[int]) -> list[int]:
        return items

    with pytest.raises(ValueError):
        Coalescer(ident, max_batch=0)


def test_an_unreachable_database_fails_the_callers_waiting_for_the_next_batch_too() -> None:
    class Unreachable(Exception):
        pass

    calls: list[list[int]] = []

    async def down(items: list[int]) -> list[int]:
        calls.append(list(items))
        await asyncio.sleep(0.02)
        raise Unreachable("no connection within the pool timeout")

    async def main() -> list[object]:
        c: Coalescer[int, int] = Coalescer(down, fail_waiting=(Unreachable,))
        first = asyncio.ensure_future(c.submit(0))
        await asyncio.sleep(0.005)  # batch [0] is waiting for a connection
        waiting = [asyncio.ensure_future(c.submit(i)) for i in range(1, 4)]
        return await asyncio.gather(first, *waiting, return_exceptions=True)

    results = run(main())
    assert all(isinstance(r, Unreachable) for r in results)
    assert calls == [[0]]  # the waiting callers did not queue behind another failing batch


def test_other_errors_leave_the_waiting_callers_to_the_next_batch() -> None:
    calls: list[list[int]] = []

    async def once_broken(items: list[int]) -> list[int]:
        calls.append(list(items))
        await asyncio.sleep(0.02)
        if len(calls) == 1:
            raise ConnectionResetError("one connection dropped")
        return items

    async def main() -> list[object]:
        c: Coalescer[int, int] = Coalescer(once_broken, fail_waiting=(TimeoutError,))
        first = asyncio.ensure_future(c.submit(0))
        await asyncio.sleep(0.005)
        waiting = [asyncio.ensure_future(c.submit(i)) for i in range(1, 4)]
        return await asyncio.gather(first, *waiting, return_exceptions=True)

    results = run(main())
    assert isinstance(results[0], ConnectionResetError) and results[1:] == [1, 2, 3]
    assert calls == [[0], [1, 2, 3]]
