"""The update ledger on a real Redis, shared by replicas: a redelivered update runs once, one
being handled elsewhere is "busy", a dead replica's claim expires within its lease, and a Redis
that is down or stalled is an answer ("unavailable"), never a hang."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.update_ledger import (
    DONE_TTL_SECONDS,
    LEASE_SECONDS,
    REDIS_TIMEOUT_SECONDS,
    Claim,
    LedgerUnavailable,
    RedisUpdateLedger,
    UpdateLedger,
)

BOT = 42


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return f"{redis_prefix}:{secrets.token_hex(4)}"  # this test's own keys


async def _claim_now(ledger: UpdateLedger, update_id: int) -> Claim:
    async with ledger.hold(BOT, update_id) as claim:
        return claim


async def test_a_handled_update_is_done_on_every_replica(redis: Redis, prefix: str) -> None:
    replica_a, replica_b = RedisUpdateLedger(redis, prefix), RedisUpdateLedger(redis, prefix)
    runs = 0
    for replica in (replica_a, replica_b, replica_a, replica_b):  # Telegram redelivering
        async with replica.hold(BOT, 1) as claim:
            if claim is Claim.MINE:
                runs += 1
    assert runs == 1

    done = f"{prefix}:upd:{BOT}:1:done"
    assert DONE_TTL_SECONDS - 60 < await redis.ttl(done) <= DONE_TTL_SECONDS  # a day or so
    assert not await redis.exists(f"{prefix}:upd:{BOT}:1:lease")  # the lease is gone


async def test_an_update_in_progress_on_one_replica_is_busy_on_another(
    redis: Redis, prefix: str
) -> None:
    replica_a, replica_b = RedisUpdateLedger(redis, prefix), RedisUpdateLedger(redis, prefix)
    async with replica_a.hold(BOT, 2) as claim:
        assert claim is Claim.MINE
        lease_ms = await redis.pttl(f"{prefix}:upd:{BOT}:2:lease")
        assert 0 < lease_ms <= LEASE_SECONDS * 1000  # short, so a dead replica lets go soon
        assert await _claim_now(replica_b, 2) is Claim.BUSY
    assert await _claim_now(replica_b, 2) is Claim.DONE


async def test_a_dead_replicas_claim_expires_and_the_update_is_handled_elsewhere(
    redis: Redis, prefix: str
) -> None:
    # What a SIGKILLed replica leaves: its claim, renewed a moment ago, and nobody renewing.
    dead = RedisUpdateLedger(redis, prefix)
    assert await dead._claim(f"{BOT}:3", "dead-replica") is Claim.MINE

    survivor = RedisUpdateLedger(redis, prefix)
    assert await _claim_now(survivor, 3) is Claim.BUSY
    handled = False
    async with asyncio.timeout(LEASE_SECONDS + 2):  # Telegram keeps redelivering meanwhile
        while not handled:
            async with survivor.hold(BOT, 3) as claim:
                handled = claim is Claim.MINE
            await asyncio.sleep(0.1)
    assert await _claim_now(dead, 3) is Claim.DONE


async def test_a_live_replica_keeps_its_claim_past_the_lease(redis: Redis, prefix: str) -> None:
    replica_a = RedisUpdateLedger(redis, prefix, lease_seconds=0.4, renew_every=0.1)
    replica_b = RedisUpdateLedger(redis, prefix, lease_seconds=0.4, renew_every=0.1)
    async with replica_a.hold(BOT, 4) as claim:
        assert claim is Claim.MINE
        await asyncio.sleep(1.0)  # more than twice the lease: renewed in the background
        assert await _claim_now(replica_b, 4) is Claim.BUSY


async def test_a_failed_update_is_given_back_to_any_replica_at_once(
    redis: Redis, prefix: str
) -> None:
    replica_a, replica_b = RedisUpdateLedger(redis, prefix), RedisUpdateLedger(redis, prefix)

    async def failing() -> None:
        async with replica_a.hold(BOT, 5):
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing()
    assert await _claim_now(replica_b, 5) is Claim.MINE


async def test_a_replica_never_drops_another_replicas_claim(redis: Redis, prefix: str) -> None:
    ledger = RedisUpdateLedger(redis, prefix)
    assert await ledger._claim(f"{BOT}:6", "replica-a") is Claim.MINE
    await ledger._release(f"{BOT}:6", "replica-b")  # a late release from someone else
    assert not await ledger._renew(f"{BOT}:6", "replica-b")
    assert await _claim_now(ledger, 6) is Claim.BUSY


@pytest.fixture
async def silent_redis() -> AsyncIterator[Redis]:
    """A "Redis" that accepts connections and never answers (a stalled server or proxy)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis(host="127.0.0.1", port=port)
    yield client
    await client.aclose()
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_stalled_redis_is_unavailable_not_a_hang(
    silent_redis: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = RedisUpdateLedger(silent_redis, prefix)
    for _ in range(3):
        async with asyncio.timeout(REDIS_TIMEOUT_SECONDS + 2):
            with pytest.raises(LedgerUnavailable):
                await _claim_now(ledger, 7)
    # One line for the outage, not one per update.
    assert caplog.text.count("update_ledger.unavailable") == 1


async def test_a_redis_that_is_down_is_unavailable(prefix: str) -> None:
    client = Redis(host="127.0.0.1", port=_closed_port())
    try:
        with pytest.raises(LedgerUnavailable):
            await _claim_now(RedisUpdateLedger(client, prefix), 8)
    finally:
        await client.aclose()
