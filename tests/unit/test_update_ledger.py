"""The update ledger in memory (one process): a redelivered update runs once, one in progress
is "busy", a holder that stops renewing loses it, a failed one runs again.

The same rules on a shared Redis, across replicas: tests/integration/test_update_ledger_redis.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from bot.update_ledger import LEASE_SECONDS, Claim, MemoryUpdateLedger

BOT = 42


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 2, 6, 50, tzinfo=UTC))


@pytest.fixture
def ledger(clock: FrozenClock) -> MemoryUpdateLedger:
    return MemoryUpdateLedger(clock)


async def _claim_now(ledger: MemoryUpdateLedger, update_id: int) -> Claim:
    async with ledger.hold(BOT, update_id) as claim:
        return claim


async def test_a_handled_update_is_done_for_every_redelivery(ledger: MemoryUpdateLedger) -> None:
    runs = 0
    for _ in range(3):
        async with ledger.hold(BOT, 1) as claim:
            if claim is Claim.MINE:
                runs += 1
    assert runs == 1
    assert await _claim_now(ledger, 1) is Claim.DONE
    assert await _claim_now(ledger, 2) is Claim.MINE  # another update is its own


async def test_an_update_being_handled_is_busy_for_a_redelivery(
    ledger: MemoryUpdateLedger,
) -> None:
    async with ledger.hold(BOT, 3) as first:
        assert first is Claim.MINE
        assert await _claim_now(ledger, 3) is Claim.BUSY
    assert await _claim_now(ledger, 3) is Claim.DONE


async def test_a_failed_update_is_given_back_and_runs_again(ledger: MemoryUpdateLedger) -> None:
    async def failing_handler() -> None:
        async with ledger.hold(BOT, 4) as claim:
            assert claim is Claim.MINE
            raise RuntimeError("the reply could not be sent")

    with pytest.raises(RuntimeError):
        await failing_handler()
    async with ledger.hold(BOT, 4) as again:
        assert again is Claim.MINE  # at once, not after the lease


async def test_a_cancelled_handler_gives_the_update_back(ledger: MemoryUpdateLedger) -> None:
    entered = asyncio.Event()

    async def handle() -> None:
        async with ledger.hold(BOT, 5):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(handle())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _claim_now(ledger, 5) is Claim.MINE


async def test_a_holder_that_stops_renewing_loses_the_update_after_the_lease(
    ledger: MemoryUpdateLedger, clock: FrozenClock
) -> None:
    # What a killed replica leaves: a claim nobody renews or finishes.
    assert await ledger._claim(f"{BOT}:6", "dead-replica") is Claim.MINE
    assert await _claim_now(ledger, 6) is Claim.BUSY
    clock.advance(seconds=LEASE_SECONDS + 0.1)
    assert await _claim_now(ledger, 6) is Claim.MINE
    assert not await ledger._renew(f"{BOT}:6", "dead-replica")  # too late to come back


async def test_a_live_holder_keeps_its_update_past_the_lease(clock: FrozenClock) -> None:
    ledger = MemoryUpdateLedger(clock)
    ledger.lease_seconds, ledger.renew_every = 0.3, 0.05
    async with ledger.hold(BOT, 7) as claim:
        assert claim is Claim.MINE
        await asyncio.sleep(0.6)  # twice the lease: renewed meanwhile
        assert await _claim_now(ledger, 7) is Claim.BUSY


async def test_done_markers_are_forgotten_after_their_time(clock: FrozenClock) -> None:
    ledger = MemoryUpdateLedger(clock, done_ttl_seconds=60)
    for update_id in range(100, 110):
        assert await _claim_now(ledger, update_id) is Claim.MINE
    clock.advance(seconds=61)
    assert await _claim_now(ledger, 200) is Claim.MINE
    assert len(ledger._done) == 1  # memory does not grow with every update ever seen
