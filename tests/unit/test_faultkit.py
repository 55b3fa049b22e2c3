"""The fault suite's kit (bench/faultkit): what a client behind its TCP proxy sees when the link
is cut, stalled or slowed, and how its fake Telegram's bursts fail calls. How the report counts
what users got is in test_faultkit_report.py. No processes are started."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from faultkit.proxy import Mode, ProxyGroup, TcpProxy
from faultkit.telegram import TelegramFaults


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1024):
            writer.write(data.upper())
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    running = TcpProxy("echo", "127.0.0.1", port)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        server.close()
        await server.wait_closed()


async def _ask(
    proxy: TcpProxy, text: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(text)
    await writer.drain()
    return reader, writer, await asyncio.wait_for(reader.read(1024), 5)


async def _connection_fails(proxy: TcpProxy) -> bool:
    """True when a new connection through the proxy breaks instead of carrying a request."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
    except ConnectionError:
        return True
    writer.close()
    return answer == b""


async def test_a_flowing_proxy_carries_requests_both_ways(proxy: TcpProxy) -> None:
    _, writer, answer = await _ask(proxy, b"hello")
    assert answer == b"HELLO"
    assert proxy.stats.client_chunks == 1
    writer.close()


async def _link_broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """True when an open connection no longer carries a request (reset, or closed)."""
    try:
        writer.write(b"after")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
    except ConnectionError:
        return True
    return answer == b""


async def test_a_cut_breaks_open_connections_and_refuses_new_ones(proxy: TcpProxy) -> None:
    reader, writer, _ = await _ask(proxy, b"before")
    proxy.cut()
    assert await _link_broken(reader, writer)
    assert proxy.stats.aborted_by_cut == 1
    assert await _connection_fails(proxy)
    assert proxy.stats.reset_on_accept == 1
    proxy.heal()
    _, writer, answer = await _ask(proxy, b"healed")
    assert answer == b"HEALED"
    writer.close()


async def test_a_stall_holds_everything_and_releases_it_when_healed(proxy: TcpProxy) -> None:
    reader, writer, _ = await _ask(proxy, b"first")
    proxy.stall()
    writer.write(b"second")
    await writer.drain()
    with pytest.raises(TimeoutError):  # accepted, but no answer comes while stalled
        await asyncio.wait_for(reader.read(1024), 0.3)
    fresh_reader, fresh_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    fresh_writer.write(b"fresh")
    await fresh_writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(fresh_reader.read(1024), 0.3)
    proxy.heal()
    assert await asyncio.wait_for(reader.read(1024), 5) == b"SECOND"
    assert await asyncio.wait_for(fresh_reader.read(1024), 5) == b"FRESH"
    writer.close()
    fresh_writer.close()


async def test_the_chunk_hook_sees_each_request_once_it_left(proxy: TcpProxy) -> None:
    seen: list[bytes] = []
    proxy.on_client_chunk = seen.append
    _, writer, _ = await _ask(proxy, b"watched")
    assert seen == [b"watched"]
    assert await proxy.wait_client_chunk(after=0, timeout=1)
    writer.close()


async def test_a_group_puts_the_fault_on_every_proxy(proxy: TcpProxy) -> None:
    other = TcpProxy("echo-2", proxy.upstream_host, proxy.upstream_port)
    await other.start()
    try:
        group = ProxyGroup("echo", [proxy, other])
        group.cut()
        assert {p.mode for p in group.proxies} == {Mode.CUT}
        assert await _connection_fails(other)
        group.heal()
        _, writer, answer = await _ask(other, b"ok")
        assert answer == b"OK"
        writer.close()
    finally:
        await other.stop()


async def test_an_unreachable_service_fails_the_client_connection() -> None:
    probe = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()  # nothing listens on `port` now
    dead = TcpProxy("dead", "127.0.0.1", port)
    await dead.start()
    try:
        assert await _connection_fails(dead)
        assert dead.stats.upstream_failures == 1
    finally:
        await dead.stop()


async def test_a_delay_slows_each_answer_and_the_answer_hook_sees_it_first(
    proxy: TcpProxy,
) -> None:
    heard: list[bytes] = []
    proxy.delay_s = 0.2
    proxy.on_service_chunk = heard.append
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, writer, answer = await _ask(proxy, b"slow")
    assert answer == b"SLOW"
    assert loop.time() - started >= 0.2
    assert heard == [b"SLOW"]
    writer.close()


# ----- the fake Telegram's bursts ------------------------------------------------------------


def test_a_burst_fails_the_next_calls_to_each_chat_then_lets_them_through() -> None:
    faults = TelegramFaults()
    faults.arm(status=429, per_chat=2, chats=[1, 2], sources=["replica-a"], retry_after=3)
    first = faults.take("replica-a", "sendmessage", 1)
    assert first is not None
    assert first.status == 429
    assert first.retry_after == 3
    assert faults.take("worker-1", "sendmessage", 1) is None  # another source
    assert faults.take("replica-a", "getme", 1) is None  # not a reply
    assert faults.take("replica-a", "sendmessage", 1) is not None
    assert faults.take("replica-a", "sendmessage", 1) is None  # chat 1's burst is over
    assert faults.left() == 2  # chat 2's two are still armed
    assert faults.injected == 2


def test_bursts_armed_one_after_another_fail_in_that_order() -> None:
    faults = TelegramFaults()
    faults.arm(status=429, per_chat=1, chats=[7], sources=["worker-1"])
    faults.arm(status=500, per_chat=1, chats=[7], sources=["worker-1"])
    statuses = [faults.take("worker-1", "sendmessage", 7) for _ in range(3)]
    assert [e.status if e else None for e in statuses] == [429, 500, None]
